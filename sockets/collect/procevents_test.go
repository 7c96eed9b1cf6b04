//go:build linux

package collect

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/sockettest"
)

// liveWithEvents is a Live whose process events the kernel confirmed, or a skipped test (not
// root, another pid namespace, a kernel without the connector).
func liveWithEvents(t *testing.T) *Live {
	t.Helper()
	sockettest.NeedRoot(t, "for the kernel's process events")
	l := NewLive()
	t.Cleanup(func() { l.Close() })
	ev := l.procs.events
	if ev == nil {
		t.Skip("the process events connector could not be opened here")
	}
	deadline := time.Now().Add(procEventsAckWait + time.Second)
	for !ev.working() {
		ev.mu.Lock()
		failed := ev.failed
		ev.mu.Unlock()
		if failed != nil {
			t.Skipf("the kernel refused its process events: %v", failed)
		}
		if time.Now().After(deadline) {
			t.Fatal("the process events listener neither started nor failed")
		}
		time.Sleep(10 * time.Millisecond)
	}
	return l
}

// ownerOn is our listener's owner pid as the snapshot has it, or nil.
func ownerOn(t *testing.T, l *Live, port uint16, pid int) *sockets.Process {
	t.Helper()
	for _, p := range listenerOn(t, snapshot(t, l), port).Owners {
		if int(p.PID) == pid {
			return p
		}
	}
	return nil
}

// pollUntil polls l every 50 ms, up to within, until ok says the owner is as wanted.
func pollUntil(t *testing.T, l *Live, port uint16, pid int, within time.Duration, ok func(*sockets.Process) bool) (*sockets.Process, bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		p := ownerOn(t, l, port, pid)
		if p != nil && ok(p) {
			return p, true
		}
		if time.Now().After(deadline) {
			return p, false
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// A process that execs the same interpreter again keeps its pid, start time and name: polling
// /proc/PID/stat cannot tell, and the cache kept the first program's command line. The kernel's
// exec event tells, and the process is read again.
func TestExecKeepingTheNameIsSeenThroughEvents(t *testing.T) {
	l := liveWithEvents(t)
	py := pythonPath(t)
	c := startChild(t, exec.Command(py, "-c", `import os,socket,sys
s=socket.socket(); s.bind(("127.0.0.1",0)); s.listen(); os.set_inheritable(s.fileno(), True)
print(s.getsockname()[1], flush=True); sys.stdin.readline()
os.execv(sys.executable, [sys.executable, "-c", "import socket,sys; s=socket.socket(fileno=int(sys.argv[2])); print('second', flush=True); sys.stdin.readline()", "pwtest-"+"second", str(s.fileno())])`))
	port := c.port(t)
	first, ok := pollUntil(t, l, port, c.pid(), 5*time.Second, func(*sockets.Process) bool { return true })
	if !ok {
		t.Fatalf("our listener on %d has no owner %d", port, c.pid())
	}
	if strings.Contains(first.Cmdline, "pwtest-second") {
		t.Fatalf("the first program's command line already reads %q", first.Cmdline)
	}
	c.say(t, "exec")
	if l := c.line(t); l != "second" {
		t.Fatalf("the child said %q, want second", l)
	}
	got, ok := pollUntil(t, l, port, c.pid(), 3*time.Second, func(p *sockets.Process) bool { return strings.Contains(p.Cmdline, "pwtest-second") })
	if !ok {
		t.Fatalf("after an exec of the same program, the owner's command line still reads %q", got.Cmdline)
	}
	if got.Name != first.Name {
		t.Errorf("name %q before the exec, %q after: the test wants the same name", first.Name, got.Name)
	}
}

// A rename (prctl PR_SET_NAME, and a write to /proc/PID/comm) is seen through the comm event,
// without polling every owner's stat.
func TestRenameIsSeenThroughEvents(t *testing.T) {
	for _, how := range []string{
		`import ctypes; ctypes.CDLL(None).prctl(15, b"pwtest-prctl", 0, 0, 0)`,
		`open("/proc/self/comm", "w").write("pwtest-comm")`,
	} {
		want := "pwtest-prctl"
		if strings.Contains(how, "comm\"") {
			want = "pwtest-comm"
		}
		t.Run(want, func(t *testing.T) {
			l := liveWithEvents(t)
			c := startChild(t, exec.Command(pythonPath(t), "-c", `import socket,sys
s=socket.socket(); s.bind(("127.0.0.1",0)); s.listen(); print(s.getsockname()[1], flush=True); sys.stdin.readline()
`+how+`
print("renamed", flush=True); sys.stdin.readline()`))
			port := c.port(t)
			if _, ok := pollUntil(t, l, port, c.pid(), 5*time.Second, func(*sockets.Process) bool { return true }); !ok {
				t.Fatalf("our listener on %d has no owner %d", port, c.pid())
			}
			snapshot(t, l) // past the first poll with events, which reads every owner's stat
			stats := 0
			l.procs.onStat = func(pid int32) {
				if int(pid) == c.pid() {
					stats++
				}
			}
			for range 3 {
				snapshot(t, l)
			}
			if stats != 0 {
				t.Errorf("%d reads of the unchanged owner's stat in 3 polls with events, want 0", stats)
			}
			c.say(t, "rename")
			c.line(t)
			if got, ok := pollUntil(t, l, port, c.pid(), 3*time.Second, func(p *sockets.Process) bool { return p.Name == want }); !ok {
				t.Fatalf("after the rename the owner is named %q, want %q", got.Name, want)
			}
			if stats == 0 {
				t.Error("the rename was seen without a read of the owner's stat")
			}
		})
	}
}

// An exit is named by the kernel, and the cache reads that pid's stat again: it forgets a
// process that no longer is.
func TestExitIsNamedByTheKernel(t *testing.T) {
	l := liveWithEvents(t)
	snapshot(t, l)
	l.procs.events.take() // what came before
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Skipf("true: %v", err)
	}
	pid := int32(cmd.Process.Pid)
	sockettest.WaitFor(t, 2*time.Second, "the kernel's exit event", func() (bool, string) {
		l.procs.events.mu.Lock()
		defer l.procs.events.mu.Unlock()
		return l.procs.events.changed[pid]&(evExec|evExit) == evExec|evExit, "not yet"
	})
}

// Where the events are not used, every poll reads each owner's stat, and a rename is still seen
// there: the fallback.
func TestRenameIsSeenWithoutEvents(t *testing.T) {
	t.Setenv("PORTWATCH_NO_PROC_EVENTS", "1")
	l := NewLive()
	if l.procs.events != nil {
		t.Fatal("PORTWATCH_NO_PROC_EVENTS=1 opened the listener")
	}
	c := startChild(t, exec.Command(pythonPath(t), "-c", `import socket,sys
s=socket.socket(); s.bind(("127.0.0.1",0)); s.listen(); print(s.getsockname()[1], flush=True); sys.stdin.readline()
open("/proc/self/comm", "w").write("pwtest-fallback")
print("renamed", flush=True); sys.stdin.readline()`))
	port := c.port(t)
	if _, ok := pollUntil(t, l, port, c.pid(), 5*time.Second, func(*sockets.Process) bool { return true }); !ok {
		t.Fatalf("our listener on %d has no owner %d", port, c.pid())
	}
	stats := 0
	l.procs.onStat = func(pid int32) {
		if int(pid) == c.pid() {
			stats++
		}
	}
	for range 3 {
		snapshot(t, l)
	}
	if stats != 3 {
		t.Errorf("%d reads of the owner's stat in 3 polls without events, want 3", stats)
	}
	c.say(t, "rename")
	c.line(t)
	if got := ownerOn(t, l, port, c.pid()); got == nil || got.Name != "pwtest-fallback" {
		t.Fatalf("the poll after the rename names the owner %v, want pwtest-fallback", got)
	}
}

// Nothing the kernel says is kept past maxChangedPIDs: past it, the next poll reads everything.
func TestProcEventsOverflowMarksEverything(t *testing.T) {
	e := &procEvents{changed: map[int32]uint8{}, spare: map[int32]uint8{}, live: true}
	msg := make([]byte, offEventData+8)
	for pid := range int32(maxChangedPIDs + 10) {
		putPIDs(msg, pid+1)
		e.note(procEventExit, msg)
	}
	if len(e.changed) != 0 {
		t.Errorf("%d pids kept after the overflow, want none", len(e.changed))
	}
	if _, all := e.take(); !all {
		t.Error("an overflow did not say that everything changed")
	}
	putPIDs(msg, 7)
	e.note(procEventComm, msg)
	if changed, all := e.take(); all || changed[7] != evComm {
		t.Errorf("the poll after: all %v, pid 7 %v; want one comm", all, changed[7])
	}
}

func putPIDs(msg []byte, pid int32) {
	for _, off := range []int{offEventData, offEventData + 4} {
		binary.NativeEndian.PutUint32(msg[off:], uint32(pid))
	}
}

// childRenameEnv has the test binary, started again in another view (as nobody, in a pid
// namespace of its own), rename itself between two polls of a Live of its own and report.
const childRenameEnv = "PORTWATCH_TEST_CHILD_RENAME"

type renameReport struct {
	Events       bool   // the kernel's process events were in use
	Before, Name string // our listener's owner, named before and after the rename
	Err          string
}

// renameChild is the child's side: it never returns.
func renameChild() {
	var r renameReport
	defer func() {
		json.NewEncoder(os.Stdout).Encode(r)
		os.Exit(0)
	}()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		r.Err = err.Error()
		return
	}
	defer ln.Close() // held to the end: a listener no longer used is closed by its finalizer
	port := uint16(ln.Addr().(*net.TCPAddr).Port)
	l := NewLive()
	defer l.Close()
	if ev := l.procs.events; ev != nil { // let the kernel answer, or be silent, first
		for deadline := time.Now().Add(procEventsAckWait + 500*time.Millisecond); time.Now().Before(deadline) && !ev.working(); {
			time.Sleep(10 * time.Millisecond)
		}
		r.Events = ev.working()
	}
	name := func() string {
		snap, err := l.Snapshot(context.Background())
		if err != nil {
			r.Err = err.Error()
			return ""
		}
		for i := range snap.Sockets {
			if s := &snap.Sockets[i]; s.LPort == port && s.IsListening() && len(s.Owners) > 0 {
				return s.Owners[0].Name
			}
		}
		return ""
	}
	name() // the first poll with events reads everything: the cache is trusted from here
	r.Before = name()
	if err := os.WriteFile("/proc/self/comm", []byte("pwtest-child"), 0); err != nil {
		r.Err = err.Error()
		return
	}
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if r.Name = name(); r.Name == "pwtest-child" {
			return
		}
	}
}

// runRenameChild runs the child as prefix and cred say, and returns its report.
func runRenameChild(t *testing.T, cred *syscall.Credential, prefix ...string) renameReport {
	t.Helper()
	dir, err := os.MkdirTemp("", "portwatch-child-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	os.Chmod(dir, 0o755)
	bin := filepath.Join(dir, "test")
	copyFile(t, bin)
	args := append(prefix, bin, "-test.run=^$")
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(), childRenameEnv+"=1")
	if cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%v: %v\n%s", args, err, stderr.String())
	}
	var r renameReport
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("the child's report: %v\n%s", err, out)
	}
	if r.Err != "" {
		t.Fatalf("the child: %s", r.Err)
	}
	return r
}

// In a pid namespace of its own (a container) the kernel ignores the request for events: the
// cache falls back to reading every owner's stat, and a rename is seen all the same.
func TestRenameIsSeenInAPidNamespaceWithoutEvents(t *testing.T) {
	sockettest.NeedRoot(t, "for a pid namespace")
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		t.Skip("unshare is not installed")
	}
	r := runRenameChild(t, nil, unshare, "--pid", "--fork", "--mount-proc")
	if r.Events {
		t.Error("the kernel's process events were in use in another pid namespace: its pids are not ours")
	}
	if r.Name != "pwtest-child" {
		t.Errorf("the child's listener named %q before and %q after its rename, want pwtest-child", r.Before, r.Name)
	}
}

// As nobody, with or without events (kernels since 6.6 let any user listen), a rename is seen.
func TestRenameIsSeenAsNobody(t *testing.T) {
	sockettest.NeedRoot(t, "to start a child as nobody")
	r := runRenameChild(t, nobody)
	if r.Name != "pwtest-child" {
		t.Errorf("nobody's listener named %q before and %q after its rename (events %v), want pwtest-child", r.Before, r.Name, r.Events)
	}
	t.Logf("as nobody the kernel's process events were in use: %v", r.Events)
}

// When the kernel drops events (the reader fell behind a burst: ENOBUFS), the next poll reads
// every owner's stat: nothing said since is complete.
func TestDroppedEventsMarkEverything(t *testing.T) {
	sockettest.NeedRoot(t, "for the kernel's process events")
	hold := make(chan struct{})
	var held atomic.Bool
	e, err := openProcEventsWith(4096, func() {
		if held.Load() {
			<-hold
		}
	})
	if err != nil {
		t.Skipf("the process events connector: %v", err)
	}
	defer e.Close()
	sockettest.WaitFor(t, procEventsAckWait+time.Second, "the kernel's answer", func() (bool, string) { return e.working(), "not yet" })
	e.take() // the first take after the answer says everything
	if _, all := e.take(); all {
		t.Fatal("a quiet listener said that everything changed")
	}
	held.Store(true)
	// The reader now stops before its next read: a burst of execs and exits fills the small
	// buffer, and the kernel drops the rest.
	for range 200 {
		if err := exec.Command("true").Run(); err != nil {
			t.Skipf("true: %v", err)
		}
	}
	held.Store(false)
	close(hold)
	sockettest.WaitFor(t, 2*time.Second, "the drop noticed", func() (bool, string) {
		e.mu.Lock()
		defer e.mu.Unlock()
		return e.all, "not yet"
	})
	if _, all := e.take(); !all {
		t.Error("the poll after the kernel dropped events trusts them")
	}
}
