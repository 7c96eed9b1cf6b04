package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func runArgs(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestBadInputIsOneLineAndExitTwo(t *testing.T) {
	cases := map[string][]string{
		"unknown flag":       {"--bogus"},
		"zero interval":      {"--interval", "0"},
		"word interval":      {"--interval", "abc"},
		"tiny interval":      {"--interval", "5ms"},
		"negative interval":  {"--interval=-1s"},
		"missing value":      {"--interval"},
		"stray argument":     {"now"},
		"conflicting narrow": {"--listening", "--established", "--once"},
		"conflicting modes":  {"--once", "--json"},
	}
	for name, args := range cases {
		code, out, errOut := runArgs(t, args...)
		if code != 2 || out != "" {
			t.Errorf("%s: exit %d, stdout %q; want 2 and nothing", name, code, out)
		}
		if strings.Count(errOut, "\n") != 1 || !strings.HasPrefix(errOut, "portwatch: ") || strings.Contains(errOut, "goroutine") {
			t.Errorf("%s: stderr %q, want one line starting with portwatch:", name, errOut)
		}
	}
	if _, _, e := runArgs(t, "--bogus"); !strings.Contains(e, "unknown flag --bogus") {
		t.Errorf("unknown flag message: %q", e)
	}
}

func TestIntervalForms(t *testing.T) {
	for in, want := range map[string]string{"500ms": "500ms", "2s": "2s", "2": "2s", "0.25": "250ms", "100ms": "100ms"} {
		o, err := parseFlags([]string{"--interval", in}, &bytes.Buffer{})
		if err != nil || o.interval.String() != want {
			t.Errorf("--interval %s: %v %v, want %s", in, o.interval, err, want)
		}
	}
}

func TestHelpListsEveryFlagAndVersionPrints(t *testing.T) {
	code, out, _ := runArgs(t, "--help")
	if code != 0 {
		t.Fatalf("--help exit %d", code)
	}
	var o options
	newFlagSet(&o).VisitAll(func(f *flag.Flag) {
		if !strings.Contains(out, "--"+f.Name) {
			t.Errorf("--help does not list --%s", f.Name)
		}
	})
	code, out, _ = runArgs(t, "--version")
	if code != 0 || !strings.HasPrefix(out, "portwatch ") {
		t.Errorf("--version: %d %q", code, out)
	}
}

type jsonOut struct {
	Taken   string `json:"taken"`
	Sockets []struct {
		Proto         string `json:"proto"`
		Family        int    `json:"family"`
		LocalAddress  string `json:"local_address"`
		LocalPort     int    `json:"local_port"`
		RemoteAddress string `json:"remote_address"`
		RemotePort    int    `json:"remote_port"`
		State         string `json:"state"`
		PID           int    `json:"pid"`
		Process       string `json:"process"`
		User          string `json:"user"`
		Owners        []struct {
			PID int `json:"pid"`
		} `json:"owners"`
	} `json:"sockets"`
}

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
	return j
}

// ssListeners runs ss and returns "proto addr port" -> owner pids.
func ssListeners(t *testing.T) map[string]map[int]bool {
	t.Helper()
	if _, err := exec.LookPath("ss"); err != nil {
		t.Skip("ss is not installed")
	}
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
		addr, port := local[:i], local[i+1:]
		addr = strings.Trim(addr, "[]")
		if j := strings.IndexByte(addr, '%'); j >= 0 { // 127.0.0.53%lo
			addr = addr[:j]
		}
		if addr == "*" {
			addr = "::"
		}
		k := f[0] + " " + addr + " " + port
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

// TestJSONListenersMatchSS compares portwatch's listening sockets with ss's,
// owners included. Other programs open and close sockets meanwhile, so a
// mismatch is retried before it counts, and our own listeners must be there.
func TestJSONListenersMatchSS(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	mine := []string{"tcp 127.0.0.1 " + port(ln.Addr()), "udp 127.0.0.1 " + port(pc.LocalAddr())}

	var problems []string
	for attempt := 0; attempt < 3; attempt++ {
		problems = nil
		ss := ssListeners(t)
		j := jsonSnapshot(t, "--listening")
		ours := map[string]map[int]bool{}
		for _, s := range j.Sockets {
			if s.State != "LISTEN" && s.State != "UNCONN" {
				problems = append(problems, "--listening let through state "+s.State)
			}
			k := s.Proto + " " + s.LocalAddress + " " + strconv.Itoa(s.LocalPort)
			if ours[k] == nil {
				ours[k] = map[int]bool{}
			}
			for _, o := range s.Owners {
				ours[k][o.PID] = true
			}
		}
		for _, k := range mine {
			if !ours[k][os.Getpid()] {
				problems = append(problems, "our own listener "+k+" is missing or lacks our pid")
			}
		}
		for k, pids := range ss {
			if ours[k] == nil {
				problems = append(problems, "ss lists "+k+", portwatch does not")
				continue
			}
			for pid := range pids {
				if !ours[k][pid] {
					problems = append(problems, "ss names pid "+strconv.Itoa(pid)+" on "+k+", portwatch does not")
				}
			}
		}
		for k := range ours {
			if ss[k] == nil {
				problems = append(problems, "portwatch lists "+k+", ss does not")
			}
		}
		if len(problems) == 0 {
			return
		}
	}
	t.Errorf("portwatch and ss disagree:\n%s", strings.Join(problems, "\n"))
}

func port(a net.Addr) string {
	_, p, _ := net.SplitHostPort(a.String())
	return p
}

func TestJSONFieldsForOurConnection(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := net.Dial("tcp4", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	srv, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
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
	row := regexp.MustCompile(`(?m)^tcp4\s+127\.0\.0\.1\s+` + port(ln.Addr()) + `\s+\S+\s+(INFO|LOW|MEDIUM|HIGH)\s+0\s+` + strconv.Itoa(os.Getpid()) + `\s+\S+\s+\S+\s+loopback$`)
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
