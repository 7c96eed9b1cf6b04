//go:build linux

package assess

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/portwatch/portwatch/sockets/sockettest"
)

// A process in a mount namespace of its own, where a daemon's path leads
// to another file (python3 bind-mounted over /usr/bin/redis-server), is not
// that daemon: its name proves nothing, it is not named redis by its
// program, and it is a HIGH finding of its own. Before, its identity was
// "unproven" and an unproven program still counted as its name, so
// `unshare --mount` plus a bind mount passed as the packaged daemon.
func TestRealFileMountedOverADaemonsPathIsNotTheDaemon(t *testing.T) {
	sockettest.NeedRoot(t, "to mount in a mount namespace of the test's own")
	const daemon = "/usr/bin/redis-server"
	if _, err := os.Stat(daemon); err != nil {
		t.Skip("redis-server is not installed: its path is the one mounted over")
	}
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("unshare is not installed")
	}
	real, err := os.ReadFile("/usr/bin/python3")
	if err != nil || len(real) < 4 || string(real[1:4]) != "ELF" {
		t.Skip("no ELF /usr/bin/python3 to mount over the daemon's path")
	}
	port := freePort(t)
	listener := scriptFile(t, "import socket,time\ns=socket.socket(); s.bind(('127.0.0.1',"+strconv.Itoa(int(port))+")); s.listen(); time.sleep(60)\n")
	script := "mount --make-rprivate / && mount --bind /usr/bin/python3 " + daemon + " && exec " + daemon + " " + listener
	cmd := exec.Command("unshare", "--mount", "sh", "-c", script)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	v := liveVerdict(t, "host", port)
	if v.Service != nil && strings.Contains(v.Service.Program, "redis") {
		t.Errorf("a file mounted over %s is named by its program: %+v", daemon, v.Service)
	}
	f := hasCode(v.Findings, CodeMountedExe)
	if f == nil || f.Severity != RiskHigh {
		t.Fatalf("no HIGH %s finding: %+v", CodeMountedExe, v.Findings)
	}
	if !strings.Contains(f.Text, "redis") || !strings.Contains(f.Text, "mount namespace") {
		t.Errorf("the finding does not name the path: %s", f.Text)
	}
}
