//go:build linux

package lab

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// ssRow is one TCP socket as `ss -tanoe` lists it.
type ssRow struct {
	state         string // ss's words: LISTEN, ESTAB, SYN-SENT, FIN-WAIT-1, CLOSE-WAIT, TIME-WAIT...
	recvQ, sendQ  int
	local, remote string // "127.0.0.1:62001", "0.0.0.0%lo:62062", "0.0.0.0:*"
	ino           uint64 // 0 for TIME_WAIT: no process holds it
	resent        int    // how many times the retransmit timer fired (a SYN_SENT's resent SYNs)
	line          string
}

// port is the port of an endpoint ("0.0.0.0%lo:62062" -> 62062; "*" -> 0).
func port(ep string) int {
	i := strings.LastIndexByte(ep, ':')
	p, _ := strconv.Atoi(ep[i+1:])
	return p
}

// host is the address of an endpoint, without a device ("0.0.0.0%lo:1" -> "0.0.0.0").
func host(ep string) string {
	h := ep[:max(strings.LastIndexByte(ep, ':'), 0)]
	h, _, _ = strings.Cut(h, "%")
	return h
}

// ownedBy reports whether process pid holds the socket, read from its
// descriptors (ss -p would walk every process of the machine, slow on a
// busy one).
func (r ssRow) ownedBy(pid int) bool {
	if r.ino == 0 {
		return false
	}
	want := "socket:[" + strconv.FormatUint(r.ino, 10) + "]"
	fds, _ := filepath.Glob("/proc/" + strconv.Itoa(pid) + "/fd/*")
	for _, fd := range fds {
		if l, err := os.Readlink(fd); err == nil && l == want {
			return true
		}
	}
	return false
}

var (
	ssIno    = regexp.MustCompile(`\bino:(\d+)`)
	ssResent = regexp.MustCompile(`\btimer:\(on,[^,]*,(\d+)\)`)
)

// ssTCP lists the TCP sockets of this network namespace that have an end
// on one of ports or on one of addrs. The filter runs in the kernel
// (inet_diag bytecode): the machine may hold tens of thousands of other
// sockets.
func ssTCP(t testing.TB, ports []int, addrs []string) []ssRow {
	t.Helper()
	var terms []string
	for _, p := range ports {
		terms = append(terms, "sport = :"+strconv.Itoa(p), "dport = :"+strconv.Itoa(p))
	}
	for _, a := range addrs {
		terms = append(terms, "src "+a, "dst "+a)
	}
	args := []string{"-H", "-tanoe", "state", "all", "( " + strings.Join(terms, " or ") + " )"}
	out, err := exec.Command("ss", args...).Output()
	if err != nil {
		t.Fatalf("ss %s: %v", strings.Join(args, " "), err)
	}
	var rows []ssRow
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		if len(f) < 5 {
			continue
		}
		r := ssRow{state: f[0], local: f[3], remote: f[4], line: line}
		r.recvQ, _ = strconv.Atoi(f[1])
		r.sendQ, _ = strconv.Atoi(f[2])
		if m := ssIno.FindStringSubmatch(line); m != nil {
			r.ino, _ = strconv.ParseUint(m[1], 10, 64)
		}
		if m := ssResent.FindStringSubmatch(line); m != nil {
			r.resent, _ = strconv.Atoi(m[1])
		}
		rows = append(rows, r)
	}
	return rows
}

// where keeps the rows f accepts.
func where(rows []ssRow, f func(ssRow) bool) []ssRow {
	var out []ssRow
	for _, r := range rows {
		if f(r) {
			out = append(out, r)
		}
	}
	return out
}

// waitFor polls list until ok accepts its rows, or fails the test after d.
func waitFor(t testing.TB, d time.Duration, what string, list func() []ssRow, ok func([]ssRow) bool) []ssRow {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		rows := list()
		if ok(rows) {
			return rows
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s, still not %s; ss:\n%s", d, what, dump(rows))
		}
		time.Sleep(40 * time.Millisecond)
	}
}

func dump(rows []ssRow) string {
	var b strings.Builder
	for _, r := range rows {
		b.WriteString("  " + r.line + "\n")
	}
	return b.String()
}

func requireSS(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("ss"); err != nil {
		t.Skip("ss (iproute2) is not installed")
	}
}
