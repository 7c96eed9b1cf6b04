//go:build linux

package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
)

// startNamed runs python3 as a process that names itself (prctl
// PR_SET_NAME) and listens on 127.0.0.1; it returns the port.
func startNamed(t *testing.T, name string) int {
	t.Helper()
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 is not installed")
	}
	script := fmt.Sprintf(`import ctypes,socket,time
ctypes.CDLL(None).prctl(15, ctypes.c_char_p(%q.encode()), 0, 0, 0)
s=socket.socket(); s.bind(("127.0.0.1",0)); s.listen()
print(s.getsockname()[1], flush=True); time.sleep(60)`, name)
	cmd := exec.Command("python3", "-c", script)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	var port int
	if _, err := fmt.Fscan(bufio.NewReader(out), &port); err != nil {
		t.Fatalf("the named listener did not start: %v", err)
	}
	// It names itself before it listens; the kernel says so in comm.
	comm := fmt.Sprintf("/proc/%d/comm", cmd.Process.Pid)
	waitFor(t, 5*time.Second, "the listener named "+name, func() (bool, string) {
		b, _ := os.ReadFile(comm)
		return strings.TrimSuffix(string(b), "\n") == name, string(b)
	})
	return port
}

// A process name of wide or combining characters keeps every column of
// --once in place (text/tabwriter moved them by +5 and -4 cells).
func TestOnceColumnsAlignWithWideNames(t *testing.T) {
	wide := startNamed(t, "日本語サ")                       // 12 bytes, 8 cells
	combining := startNamed(t, "e\u0301e\u0301e\u0301") // 9 bytes, 3 cells
	code, out, errOut := runArgs(t, "--once", "--listening")
	if code != 0 {
		t.Fatalf("--once: %d %s", code, errOut)
	}
	lines := strings.Split(out, "\n")
	col := func(line, word string) int {
		i := strings.Index(line, word)
		if i < 0 {
			return -1
		}
		return ansi.StringWidth(line[:i])
	}
	want := col(lines[1], "EXPOSURE")
	found := 0
	for _, l := range lines[2:] {
		for _, port := range []int{wide, combining} {
			if strings.Contains(l, fmt.Sprintf("  %d  ", port)) {
				found++
				if got := col(l, "loopback"); got != want {
					t.Errorf("the exposure column of %q starts at cell %d, the header's at %d", l, got, want)
				}
			}
		}
	}
	if found != 2 {
		t.Fatalf("found %d of our 2 listeners in:\n%s", found, out)
	}
}

// --once ends with the findings of what it listed, worst first, each with
// its stable code.
func TestOnceListsFindingsWorstFirst(t *testing.T) {
	port := startNamed(t, "x\x1b]0;pwned\a")
	_, out, _ := runArgs(t, "--once", "--listening")
	i := strings.Index(out, "\nFINDINGS (")
	if i < 0 {
		t.Fatalf("no findings section:\n%s", out)
	}
	section := strings.Split(strings.TrimSpace(out[i+1:]), "\n")
	if len(section) < 3 || !strings.HasPrefix(section[1], "RISK") {
		t.Fatalf("the findings section has no table:\n%s", out[i:])
	}
	rank := map[string]int{"HIGH": 3, "MEDIUM": 2, "LOW": 1}
	last := 4
	ours := false
	for _, l := range section[2:] {
		f := strings.Fields(l)
		if len(f) < 4 || rank[f[0]] == 0 {
			break // the notes after the table
		}
		if rank[f[0]] > last {
			t.Errorf("findings not worst first at %q", l)
		}
		last = rank[f[0]]
		if strings.Contains(l, fmt.Sprintf("127.0.0.1:%d ", port)) && strings.Contains(l, "unknown-listener") {
			ours = true
		}
	}
	if !ours {
		t.Errorf("our unknown listener's finding is missing:\n%s", strings.Join(section, "\n"))
	}
	if strings.ContainsAny(out, "\x1b\a") {
		t.Errorf("a raw escape reached the report")
	}
}
