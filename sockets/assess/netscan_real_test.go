//go:build linux

package assess

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/portwatch/portwatch/sockets/collect"
)

// scanNamespace makes a network namespace with three real listeners (a
// python3 process) and returns its name and the listener's pid.
func scanNamespace(t *testing.T, tag string) string {
	t.Helper()
	name := fmt.Sprintf("pw%s%d", tag, os.Getpid())
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Skipf("cannot make a network namespace here: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", name).Run() })
	exec.Command("ip", "-n", name, "link", "set", "lo", "up").Run()
	cmd := exec.Command("ip", "netns", "exec", name, "python3", "-c", `import socket,threading,time
ls=[]
for p in (22, 80, 443):
    s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("0.0.0.0",p)); s.listen(64); ls.append(s)
def serve(s):
    while True:
        c,_=s.accept(); c.close()
for s in ls: threading.Thread(target=serve,args=(s,),daemon=True).start()
print("ready", flush=True); time.sleep(120)`)
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	if line, _ := bufio.NewReader(out).ReadString('\n'); line != "ready\n" {
		t.Fatalf("the listeners did not start: %q", line)
	}
	return name
}

// pollScans polls the real machine with one Assessor every 200 ms while
// during runs, and for a few polls after, and returns the scans seen in
// the namespace labelled name.
func pollScans(t *testing.T, name string, during func()) []NetScan {
	t.Helper()
	as := NewAssessor(SystemKnowledge())
	src := collect.NewLive()
	var seen []NetScan
	poll := func() {
		snap, err := src.Snapshot(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range as.AssessWith(snap, Context{}).Scans {
			if s.Netns == name {
				seen = append(seen, s)
			}
		}
	}
	poll()
	done := make(chan struct{})
	go func() { during(); close(done) }()
	for running := true; running; {
		select {
		case <-done:
			running = false
		case <-time.After(200 * time.Millisecond):
			poll()
		}
	}
	for range 3 {
		time.Sleep(200 * time.Millisecond)
		poll()
	}
	return seen
}

// A real nmap, SYN scan and connect scan, of a three-service server in a
// namespace of the test's own raises a scan finding from the counters;
// a busy client of one open port does not.
func TestRealScanSeenInTheCounters(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: runs nmap against a namespace")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root for a network namespace and a SYN scan")
	}
	for _, tool := range []string{"ip", "python3", "nmap"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed (CI installs nmap)", tool)
		}
	}
	for _, mode := range []string{"-sS", "-sT"} {
		t.Run(mode, func(t *testing.T) {
			name := scanNamespace(t, strings.TrimPrefix(mode, "-"))
			scans := pollScans(t, name, func() {
				out, err := exec.Command("ip", "netns", "exec", name, "nmap", mode, "-n", "-Pn", "-T4", "-p", "1-300", "127.0.0.1").CombinedOutput()
				if err != nil {
					t.Errorf("nmap: %v %s", err, out)
				}
			})
			if len(scans) == 0 {
				t.Fatalf("nmap %s of 300 ports: no scan seen in the counters", mode)
			}
			last := scans[len(scans)-1]
			if last.Resets < ResetScanThreshold || last.Code != CodeScanCounters || !strings.Contains(last.Text, "closed ports") {
				t.Errorf("scan: %+v", last)
			}
			if mode == "-sS" && (last.HalfOpen < HalfOpenThreshold || !strings.Contains(last.Text, "SYN scan")) {
				t.Errorf("a SYN scan of three open ports: %d half-open, %q", last.HalfOpen, last.Text)
			}
		})
	}
	t.Run("busy client", func(t *testing.T) {
		name := scanNamespace(t, "busy")
		scans := pollScans(t, name, func() {
			script := `import socket
for i in range(300):
    c=socket.create_connection(("127.0.0.1",80)); c.recv(1); c.close()`
			if out, err := exec.Command("ip", "netns", "exec", name, "python3", "-c", script).CombinedOutput(); err != nil {
				t.Errorf("client: %v %s", err, out)
			}
		})
		if len(scans) > 0 {
			t.Errorf("300 connections to one open port read as a scan: %+v", scans[0])
		}
	})
	_ = net.IPv4len
}
