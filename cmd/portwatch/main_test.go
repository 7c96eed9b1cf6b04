//go:build linux

package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/portwatch/portwatch/sockets/sockettest"
)

type jsonOut struct {
	Taken   string `json:"taken"`
	Sockets []struct {
		Netns         string `json:"netns"`
		Proto         string `json:"proto"`
		Family        int    `json:"family"`
		LocalAddress  string `json:"local_address"`
		LocalPort     int    `json:"local_port"`
		RemoteAddress string `json:"remote_address"`
		RemotePort    int    `json:"remote_port"`
		State         string `json:"state"`
		Kind          string `json:"kind"`
		DualStack     bool   `json:"dual_stack"`
		Connections   *int   `json:"connections"`
		PID           int    `json:"pid"`
		Process       string `json:"process"`
		User          string `json:"user"`
		Owners        []struct {
			PID int `json:"pid"`
		} `json:"owners"`
	} `json:"sockets"`
}

// jsonSnapshot runs portwatch --json with args and keeps the sockets of
// the test's own network namespace: every other namespace has a 127.0.0.1
// of its own, where other programs use the same port numbers.
func jsonSnapshot(t *testing.T, args ...string) jsonOut {
	t.Helper()
	code, out, errOut := runArgs(t, append([]string{"--json"}, args...)...)
	if code != 0 {
		t.Fatalf("--json exit %d: %s", code, errOut)
	}
	var j jsonOut
	if err := json.Unmarshal([]byte(out), &j); err != nil {
		t.Fatalf("--json output does not parse: %v", err)
	}
	mine := j.Sockets[:0]
	for _, s := range j.Sockets {
		if s.Netns == "host" {
			mine = append(mine, s)
		}
	}
	j.Sockets = mine
	return j
}

// ssListeners runs ss and returns "proto addr port" -> owner pids for the
// listening sockets on the given ports of each protocol. A dual-stack
// listener's address is "*", as ss writes it.
func ssListeners(t *testing.T, ports map[string]map[int]bool) map[string]map[int]bool {
	t.Helper()
	out, err := exec.Command("ss", "-H", "-tulnp").Output()
	if err != nil {
		t.Fatalf("ss: %v", err)
	}
	pidRe := regexp.MustCompile(`pid=(\d+)`)
	got := map[string]map[int]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		if len(f) < 5 {
			continue
		}
		local := f[4]
		i := strings.LastIndexByte(local, ':')
		if i < 0 {
			continue
		}
		addr, portText := local[:i], local[i+1:]
		if p, err := strconv.Atoi(portText); err != nil || !ports[f[0]][p] {
			continue // not one of ours
		}
		if j := strings.IndexByte(addr, '%'); j >= 0 { // 127.0.0.53%lo
			addr = addr[:j]
		}
		addr = strings.Trim(addr, "[]")
		k := f[0] + " " + addr + " " + portText
		if got[k] == nil {
			got[k] = map[int]bool{}
		}
		for _, m := range pidRe.FindAllStringSubmatch(line, -1) {
			pid, _ := strconv.Atoi(m[1])
			got[k][pid] = true
		}
	}
	return got
}

// TestJSONListenersMatchSS compares, for the listeners this test opens
// (TCP and UDP; IPv4, IPv6 and dual-stack; on ports of its own), what ss
// says with what portwatch --json --listening says: address, port and owner
// pids. Only those ports are compared, so sockets that other programs open
// and close meanwhile cannot fail it.
func TestJSONListenersMatchSS(t *testing.T) {
	if _, err := exec.LookPath("ss"); err != nil {
		t.Skip("ss is not installed")
	}
	ports := map[string]map[int]bool{"tcp": {}, "udp": {}}
	mine := map[string]bool{} // "proto addr port", ss's way
	for _, l := range []struct{ network, addr, shown string }{
		{"tcp4", "127.0.0.1:0", "127.0.0.1"}, {"udp4", "127.0.0.1:0", "127.0.0.1"},
		{"tcp6", "[::1]:0", "::1"}, {"udp6", "[::1]:0", "::1"},
		{"tcp", ":0", "*"}, {"udp", ":0", "*"}, // dual-stack
	} {
		var a net.Addr
		if strings.HasPrefix(l.network, "tcp") {
			ln, err := net.Listen(l.network, l.addr)
			if err != nil && l.shown != "127.0.0.1" {
				t.Logf("no IPv6 here, so no %s listener: %v", l.network, err)
				continue
			} else if err != nil {
				t.Fatalf("listen %s %s: %v", l.network, l.addr, err)
			}
			defer ln.Close()
			a = ln.Addr()
		} else {
			pc, err := net.ListenPacket(l.network, l.addr)
			if err != nil && l.shown != "127.0.0.1" {
				t.Logf("no IPv6 here, so no %s listener: %v", l.network, err)
				continue
			} else if err != nil {
				t.Fatalf("listen %s %s: %v", l.network, l.addr, err)
			}
			defer pc.Close()
			a = pc.LocalAddr()
		}
		proto := l.network[:3]
		p, _ := strconv.Atoi(port(a))
		ports[proto][p] = true
		mine[proto+" "+l.shown+" "+strconv.Itoa(p)] = true
	}

	ss := ssListeners(t, ports)
	ours := map[string]map[int]bool{}
	for _, s := range jsonSnapshot(t, "--listening").Sockets {
		if !ports[s.Proto][s.LocalPort] {
			continue
		}
		if s.State != "LISTEN" && s.State != "UNCONN" {
			t.Errorf("--listening let through %s %s:%d in state %s", s.Proto, s.LocalAddress, s.LocalPort, s.State)
		}
		addr := s.LocalAddress
		if s.DualStack {
			addr = "*"
		}
		k := s.Proto + " " + addr + " " + strconv.Itoa(s.LocalPort)
		if ours[k] == nil {
			ours[k] = map[int]bool{}
		}
		for _, o := range s.Owners {
			ours[k][o.PID] = true
		}
	}
	me := map[int]bool{os.Getpid(): true}
	for k := range mine {
		if !maps.Equal(ss[k], me) {
			t.Errorf("ss shows our listener %s with pids %v, want ours alone (%d)", k, slices.Sorted(maps.Keys(ss[k])), os.Getpid())
		}
	}
	for k, pids := range ss {
		switch {
		case ours[k] == nil:
			t.Errorf("ss lists %s, portwatch does not", k)
		case !maps.Equal(pids, ours[k]):
			t.Errorf("%s: ss names pids %v, portwatch %v", k, slices.Sorted(maps.Keys(pids)), slices.Sorted(maps.Keys(ours[k])))
		}
	}
	for k := range ours {
		if ss[k] == nil {
			t.Errorf("portwatch lists %s, ss does not", k)
		}
	}
}

func port(a net.Addr) string {
	_, p, _ := net.SplitHostPort(a.String())
	return p
}

func TestJSONFieldsForOurConnection(t *testing.T) {
	ln := sockettest.LoopbackPair(t).Listener
	j := jsonSnapshot(t, "--established")
	if j.Taken == "" {
		t.Error("no taken time")
	}
	found := 0
	for _, s := range j.Sockets {
		if s.State != "ESTABLISHED" {
			t.Errorf("--established let through %s", s.State)
		}
		if s.LocalAddress == "127.0.0.1" && (strconv.Itoa(s.LocalPort) == port(ln.Addr()) || strconv.Itoa(s.RemotePort) == port(ln.Addr())) {
			if s.PID != os.Getpid() || s.Process == "" || s.User == "" || s.Proto != "tcp" || s.Family != 4 {
				t.Errorf("our connection: %+v", s)
			}
			found++
		}
	}
	if found != 2 {
		t.Errorf("found %d ends of our connection, want 2", found)
	}
}

func TestOnceTables(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	code, out, errOut := runArgs(t, "--once")
	if code != 0 {
		t.Fatalf("--once: %d %s", code, errOut)
	}
	li, ei := strings.Index(out, "LISTENING ("), strings.Index(out, "ESTABLISHED (")
	if li < 0 || ei < li {
		t.Fatalf("want LISTENING then ESTABLISHED sections:\n%s", out)
	}
	row := regexp.MustCompile(`(?m)^(?:host\s+)?tcp4\s+127\.0\.0\.1\s+` + port(ln.Addr()) + `\s+\S+\s+(INFO|LOW|MEDIUM|HIGH)\s+0\s+` + strconv.Itoa(os.Getpid()) + `\s+\S+\s+\S+\s+loopback$`)
	if !row.MatchString(out[li:ei]) {
		t.Errorf("our listener's row is missing or misaligned in:\n%s", out)
	}
	code, out, _ = runArgs(t, "--once", "--established")
	if code != 0 || strings.Contains(out, "LISTENING") {
		t.Errorf("--once --established printed listeners:\n%s", out)
	}
}

func TestMethodIsReportedAndFallbackWorks(t *testing.T) {
	j := struct {
		Method string `json:"method"`
	}{}
	_, out, _ := runArgs(t, "--json")
	json.Unmarshal([]byte(out), &j)
	if j.Method != "netlink" && j.Method != "procfs" {
		t.Errorf("method %q", j.Method)
	}
	t.Setenv("PORTWATCH_NO_NETLINK", "1")
	_, out, _ = runArgs(t, "--json")
	json.Unmarshal([]byte(out), &j)
	if j.Method != "procfs" {
		t.Errorf("with netlink refused, method %q, want procfs", j.Method)
	}
}

// TestListenerConnectionsCounted: a listener with three connections says
// CONNS 3 in the tables, with and without --listening (which once hid the
// connections before they were counted), and "connections": 3 in JSON.
func TestListenerConnectionsCounted(t *testing.T) {
	ln := sockettest.LoopbackPair(t).Listener
	for range 2 { // and two more
		sockettest.Connect(t, ln)
	}
	lport := port(ln.Addr())
	// PROTO ADDRESS PORT SERVICE RISK CONNS PID PROCESS USER EXPOSURE
	row := regexp.MustCompile(`(?m)^(?:host\s+)?tcp4\s+127\.0\.0\.1\s+` + lport + `\s+\S+\s+(?:INFO|LOW|MEDIUM|HIGH)\s+(\d+)\s+` +
		strconv.Itoa(os.Getpid()) + `\s+\S+\s+\S+\s+loopback$`)
	for _, args := range [][]string{{"--once"}, {"--once", "--listening"}} {
		code, out, errOut := runArgs(t, args...)
		if code != 0 {
			t.Fatalf("%q: exit %d: %s", args, code, errOut)
		}
		m := row.FindStringSubmatch(out)
		if m == nil {
			t.Errorf("%q: no row for our listener on port %s:\n%s", args, lport, out)
		} else if m[1] != "3" {
			t.Errorf("%q: CONNS %s for our listener with 3 connections:\n%s", args, m[1], out)
		}
		if len(args) == 2 && strings.Contains(out, "ESTABLISHED (") {
			t.Errorf("--once --listening printed the connections:\n%s", out)
		}
	}
	found := false
	for _, s := range jsonSnapshot(t, "--listening").Sockets {
		if s.Proto != "tcp" || s.LocalAddress != "127.0.0.1" || strconv.Itoa(s.LocalPort) != lport {
			continue
		}
		found = true
		if s.Connections == nil {
			t.Error(`--json --listening: our listener has no "connections"`)
		} else if *s.Connections != 3 {
			t.Errorf(`--json --listening: our listener has "connections": %d, want 3`, *s.Connections)
		}
	}
	if !found {
		t.Errorf("--json --listening does not list our listener on port %s", lport)
	}
}

// TestExitCodes is run's contract, for every kind of answer a command
// gives: 0 done; 1 a failure (its line on stderr) or --once's deviations
// (the report said which); 2 a command-line mistake (pointing to the
// command's help) or a bad baseline; the lab's namespace process's own code,
// which has said why already.
func TestExitCodes(t *testing.T) {
	for _, c := range []struct {
		name   string
		err    error
		code   int
		stderr string
	}{
		{"done", nil, 0, ""},
		{"a failure", errors.New("reading sockets: no"), 1, "portwatch: reading sockets: no\n"},
		{"--once's deviations", errDeviations, 1, ""},
		{"a mistake", errUsage{msg: "unknown flag --x"}, 2, "portwatch: unknown flag --x (see portwatch --help)\n"},
		{"a subcommand's mistake", errUsage{msg: "unknown flag --x", see: "portwatch watch"}, 2, "portwatch: unknown flag --x (see portwatch watch --help)\n"},
		{"a bad baseline", errBadBaseline{errors.New("baseline /b: permission denied")}, 2, "portwatch: baseline /b: permission denied\n"},
		{"the lab's child", fmt.Errorf("lab: %w", errLabExit{3}), 3, ""},
	} {
		var stderr strings.Builder
		if code := exitCode(c.err, &stderr); code != c.code || stderr.String() != c.stderr {
			t.Errorf("%s: exit %d, stderr %q; want %d and %q", c.name, code, stderr.String(), c.code, c.stderr)
		}
	}
}

// TestJSONSnapshotKeepsToOurNamespace: the tests' reading of --json keeps
// to this namespace, though another holds a listener on the very same
// 127.0.0.1:port (the lab's and other tests' namespaces run beside these
// tests; --json lists every namespace).
func TestJSONSnapshotKeepsToOurNamespace(t *testing.T) {
	sockettest.NeedRoot(t, "to make a network namespace")
	for _, tool := range []string{"unshare", "ip", "python3"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed", tool)
		}
	}
	ln := sockettest.Listen(t, "tcp4", "127.0.0.1:0")
	p, _ := strconv.Atoi(port(ln.Addr()))
	twin := exec.Command("unshare", "--net", "--", "sh", "-c", `ip link set lo up && exec python3 -c "$0" `+strconv.Itoa(p),
		`import socket, sys
s = socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen()
print("ready", flush=True); sys.stdin.readline()`)
	stdin, _ := twin.StdinPipe()
	out, _ := twin.StdoutPipe()
	if err := twin.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdin.Close(); twin.Process.Kill(); twin.Wait() })
	var ready string
	if _, err := fmt.Fscan(out, &ready); err != nil || ready != "ready" {
		t.Fatalf("the twin listener did not start: %q %v", ready, err)
	}
	n := 0
	for _, s := range jsonSnapshot(t, "--listening").Sockets {
		if s.Proto == "tcp" && s.LocalAddress == "127.0.0.1" && s.LocalPort == p {
			n++
			if s.PID != os.Getpid() {
				t.Errorf("the listener on %d is pid %d's, want ours", p, s.PID)
			}
		}
	}
	if n != 1 {
		t.Errorf("%d listeners on 127.0.0.1:%d, want ours alone", n, p)
	}
}
