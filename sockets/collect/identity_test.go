//go:build linux

package collect

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// A process keeps its pid and start time when it renames itself or execs
// another program; the process cache, keyed by both, must still notice.

// renameScript listens, says the port, then renames itself (prctl
// PR_SET_NAME) to each name it reads, saying "done" after each.
const renameScript = `import ctypes, socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen()
print(s.getsockname()[1], flush=True)
for line in sys.stdin:
    ctypes.CDLL(None).prctl(15, line.strip().encode(), 0, 0, 0)
    print("done", flush=True)
`

// TestRenamedProcessIsReloaded: a listener's owner renames itself between
// two polls: the next snapshot has the new name.
func TestRenamedProcessIsReloaded(t *testing.T) {
	c := startChild(t, exec.Command(pythonPath(t), "-c", renameScript))
	port := c.port(t)
	src := NewLive()
	b := listenerOn(t, snapshot(t, src), port)
	before := b.Process()
	if before == nil || !strings.HasPrefix(before.Name, "python") {
		t.Fatalf("before the rename: %+v", before)
	}
	c.say(t, "pw-renamed")
	if l := c.line(t); l != "done" {
		t.Fatalf("the child said %q", l)
	}
	a := listenerOn(t, snapshot(t, src), port)
	after := a.Process()
	if after == nil || after.Name != "pw-renamed" {
		t.Errorf("after the rename the name is %q, want pw-renamed", after.Name)
	}
	if after != nil && after.StartTicks != before.StartTicks {
		t.Errorf("start time %d, want %d: not the same process", after.StartTicks, before.StartTicks)
	}
}

// execScript listens with a descriptor that survives exec, says the port,
// and on its first input line replaces itself with sleep: the same pid,
// the same listener, another program.
const execScript = `import os, socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen()
s.set_inheritable(True)
print(s.getsockname()[1], flush=True)
sys.stdin.readline()
os.execv(sys.argv[1], ["sleep", "3600"])
`

// TestExecedProcessIsReloaded: a listener's owner execs sleep between two
// polls (same pid, same start time): the next snapshot shows sleep, its
// executable and its command line.
func TestExecedProcessIsReloaded(t *testing.T) {
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("sleep is not installed")
	}
	sleep, _ = filepath.EvalSymlinks(sleep)
	c := startChild(t, exec.Command(pythonPath(t), "-c", execScript, sleep))
	port := c.port(t)
	src := NewLive()
	b := listenerOn(t, snapshot(t, src), port)
	before := b.Process()
	if before == nil || !strings.HasPrefix(before.Name, "python") {
		t.Fatalf("before the exec: %+v", before)
	}
	c.say(t, "exec")
	// The exec is done when the process's executable is sleep.
	for try := 0; ; try++ {
		if exe, _ := os.Readlink("/proc/" + strconv.Itoa(c.pid()) + "/exe"); exe == sleep {
			break
		}
		if try == 500 {
			t.Fatal("the child did not exec sleep")
		}
		time.Sleep(10 * time.Millisecond)
	}
	s := listenerOn(t, snapshot(t, src), port)
	after := s.Process()
	if after == nil || int(after.PID) != c.pid() {
		t.Fatalf("owners %v after the exec, want pid %d", s.Owners, c.pid())
	}
	if after.Name != "sleep" || after.Exe != sleep || after.Cmdline != "sleep 3600" {
		t.Errorf("after the exec: name %q exe %q command %q; want sleep, %s, \"sleep 3600\"", after.Name, after.Exe, after.Cmdline, sleep)
	}
}
