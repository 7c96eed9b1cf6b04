//go:build linux

package assess

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/sockettest"
)

// startInDir starts a real process in dir and ends it when the test does.
func startInDir(t *testing.T, dir string, name string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd
}

// Python's one-line file server, run by root, serves root's files: a
// finding of its own, MEDIUM on loopback (HIGH beyond it, as the corpus's
// kit checks). Before, it was an unpackaged interpreter at most.
func TestRealPythonHTTPServerAsRootIsAFileServer(t *testing.T) {
	sockettest.NeedRoot(t, "to serve root's files as an attacker with root would")
	py := realPython(t)
	port := freePort(t)
	cmd := startInDir(t, "/", py, "-m", "http.server", "--bind", "127.0.0.1", strconv.Itoa(int(port)))
	v := liveVerdictOf(t, cmd.Process.Pid, func(s *sockets.Socket) bool { return s.IsListening() && s.LPort == port })
	f := hasCode(v.Findings, CodeFileServer)
	if f == nil || f.Severity != RiskMedium {
		t.Fatalf("no MEDIUM %s finding on loopback: %+v", CodeFileServer, v.Findings)
	}
	if !strings.Contains(f.Text, "root's") || !strings.Contains(f.Text, "http.server") {
		t.Errorf("the finding does not say whose files, or which server: %s", f.Text)
	}
}

// A socat listener relaying every connection to another address is a
// pivot, named for the address it relays to, not "a shell or netcat
// waiting": before, it read listening-shell.
func TestRealSocatRelayListenerIsAPivot(t *testing.T) {
	sockettest.NeedRoot(t, "to read the relay's command line and sockets")
	socat, err := exec.LookPath("socat")
	if err != nil {
		t.Skip("socat is not installed")
	}
	port, to := freePort(t), freePort(t)
	cmd := startInDir(t, os.TempDir(), socat, "TCP-LISTEN:"+strconv.Itoa(int(port))+",bind=127.0.0.1,fork,reuseaddr", "TCP:127.0.0.1:"+strconv.Itoa(int(to)))
	v := liveVerdictOf(t, cmd.Process.Pid, func(s *sockets.Socket) bool { return s.IsListening() && s.LPort == port })
	f := hasCode(v.Findings, CodePivot)
	if f == nil || f.Severity != RiskHigh || !strings.Contains(f.Text, "127.0.0.1:"+strconv.Itoa(int(to))) {
		t.Fatalf("no HIGH %s finding naming the relay's address: %+v", CodePivot, v.Findings)
	}
	if hasCode(v.Findings, CodeBackdoorTool) != nil {
		t.Errorf("a relay is called a shell: %+v", v.Findings)
	}
}

// The packaged python3 renamed after a daemon (PR_SET_NAME "sshd") is a
// disguise whatever its package: HIGH on a listener. Before, it read as
// an ssh-alt listener with no finding.
func TestRealPythonRenamedSshdIsARenamedProcess(t *testing.T) {
	requireRootDpkg(t)
	py := realPython(t)
	port := freePort(t)
	script := scriptFile(t, "import ctypes,socket,time\nctypes.CDLL(None).prctl(15, b'sshd', 0, 0, 0)\ns=socket.socket(); s.bind(('127.0.0.1',"+strconv.Itoa(int(port))+")); s.listen(); time.sleep(60)\n")
	cmd := startInDir(t, "/", py, script)
	v := liveVerdictOf(t, cmd.Process.Pid, func(s *sockets.Socket) bool {
		return s.IsListening() && s.LPort == port && s.Owners[0].Name == "sshd"
	})
	f := hasCode(v.Findings, CodeRenamedProcess)
	if f == nil || f.Severity != RiskHigh || !strings.Contains(f.Text, py) {
		t.Fatalf("no HIGH %s finding naming the executable: %+v", CodeRenamedProcess, v.Findings)
	}
}
