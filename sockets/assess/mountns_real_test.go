//go:build linux

package assess

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/portwatch/portwatch/sockets"
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

// A program whose file was deleted, running in a mount namespace of its
// own (ip netns exec makes one for every program it starts), is a deleted
// executable, not "a file mounted over that path": the path no longer
// leads anywhere, in any namespace. Before, the missing path read as
// another file than this machine's, and the finding said mounted-exe.
func TestRealDeletedExeInAMountNamespaceIsDeletedNotMounted(t *testing.T) {
	sockettest.NeedRoot(t, "to start a program in a mount namespace of its own")
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("unshare is not installed")
	}
	data, err := os.ReadFile(realPython(t))
	if err != nil {
		t.Skip(err)
	}
	exe := filepath.Join(rootDir(t), "httpd")
	if err := os.WriteFile(exe, data, 0o755); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	listener := scriptFile(t, "import os,socket,time\nos.unlink(os.readlink('/proc/self/exe'))\ns=socket.socket(); s.bind(('127.0.0.1',"+strconv.Itoa(int(port))+")); s.listen(); time.sleep(60)\n")
	cmd := exec.Command("unshare", "--mount", exe, listener)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	v := liveVerdict(t, "host", port)
	if id := v.Socket.Process().Identity; id == nil || id.Proof == sockets.ProofMounted {
		t.Errorf("identity of a deleted file: %+v", id)
	}
	if hasCode(v.Findings, CodeMountedExe) != nil || hasCode(v.Findings, CodeDeletedExe) == nil {
		t.Fatalf("a deleted file in a mount namespace: %+v", v.Findings)
	}
}
