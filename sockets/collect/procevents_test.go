//go:build linux

package collect

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/sockettest"
	"golang.org/x/sys/unix"
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
	if err := settleProcEvents(ev); err != nil {
		t.Skipf("the kernel refused its process events: %v", err)
	}
	return l
}

// settleProcEvents drains e until the kernel has answered or been silent too long, and says
// whether it refused.
func settleProcEvents(e *procEvents) error {
	for deadline := time.Now().Add(procEventsAckWait + time.Second); !e.working() && e.failed == nil; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			return errProcEventsSilent
		}
		e.take(time.Now())
	}
	return e.failed
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
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Skipf("true: %v", err)
	}
	pid := int32(cmd.Process.Pid)
	sockettest.WaitFor(t, 2*time.Second, "the kernel's exec and exit events", func() (bool, string) {
		changed, _ := l.procs.events.take(time.Now())
		return changed[pid]&(evExec|evExit) == evExec|evExit, "not yet"
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
	e := &procEvents{changed: map[int32]uint8{}, live: true}
	msg := make([]byte, offEventData+8)
	binary.NativeEndian.PutUint32(msg[offWhat:], procEventExit)
	for pid := range int32(maxChangedPIDs + 10) {
		putPIDs(msg, pid+1)
		e.read(msg)
	}
	if len(e.changed) != maxChangedPIDs+1 || !e.overflowed() {
		t.Errorf("%d pids kept (overflowed %v), want %d: the bound, and one past it to say so", len(e.changed), e.overflowed(), maxChangedPIDs+1)
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
	Refused      string // why not, where the connector was opened
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
		if err := settleProcEvents(ev); err != nil {
			r.Refused = err.Error()
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
	out := runChild(t, childRenameEnv, cred, prefix...)
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
	if r.Events || r.Refused != errProcEventsSilent.Error() {
		t.Errorf("in another pid namespace: events in use %v, refused %q; want %q: its pids are not ours", r.Events, r.Refused, errProcEventsSilent)
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
	e, err := openProcEventsWith(4096)
	if err != nil {
		t.Skipf("the process events connector: %v", err)
	}
	defer e.Close()
	if err := settleProcEvents(e); err != nil {
		t.Skipf("the kernel refused its process events: %v", err)
	}
	if _, all := e.take(time.Now()); all {
		t.Fatal("a quiet listener said that everything changed")
	}
	// Nothing drains the small buffer now: a burst of execs and exits fills it, and the kernel
	// drops the rest.
	for range 200 {
		if err := exec.Command("true").Run(); err != nil {
			t.Skipf("true: %v", err)
		}
	}
	if _, all := e.take(time.Now()); !all {
		t.Error("the poll after the kernel dropped events trusts them")
	}
	if _, all := e.take(time.Now()); all {
		t.Error("the poll after that still reads everything")
	}
}

// Every fullIdentityEvery, every owner's stat is read even while the events are complete: the
// safety net under what events cannot say.
func TestEveryOwnerIsReadAgainNowAndThen(t *testing.T) {
	l := liveWithEvents(t)
	ln := listenTCP(t, "127.0.0.1:0")
	port := addrPort(t, ln.Addr()).Port()
	snapshot(t, l) // the first poll with events reads every owner
	stats := 0
	l.procs.onStat = func(pid int32) {
		if int(pid) == os.Getpid() {
			stats++
		}
	}
	if ownerOn(t, l, port, os.Getpid()) == nil || stats != 0 {
		t.Fatalf("a trusted poll read our stat %d times (or lost our listener's owner)", stats)
	}
	l.procs.lastFull = time.Now().Add(-fullIdentityEvery)
	if ownerOn(t, l, port, os.Getpid()) == nil || stats != 1 {
		t.Errorf("the poll %v after the last full one read our stat %d times, want 1", fullIdentityEvery, stats)
	}
	if ownerOn(t, l, port, os.Getpid()) == nil || stats != 1 {
		t.Errorf("the poll after that read it again (%d reads)", stats)
	}
}

// The socket filter drops in the kernel what the cache has no use for: threads' starts (forks)
// and exits, and forks of processes. What reaches the socket is the kernel's answers and the
// events of processes' main threads.
func TestTheKernelFiltersForksAndThreads(t *testing.T) {
	sockettest.NeedRoot(t, "for the kernel's process events")
	e, err := openProcEvents()
	if err != nil {
		t.Skipf("the process events connector: %v", err)
	}
	defer e.Close()
	if err := settleProcEvents(e); err != nil {
		t.Skipf("the kernel refused its process events: %v", err)
	}
	e.take(time.Now())
	// 20 threads that rename themselves and exit, and 20 forked children that exit.
	cmd := exec.Command(pythonPath(t), "-c", `import ctypes,os,threading
libc = ctypes.CDLL(None)
def run(): libc.prctl(15, b"pwtest-thread", 0, 0, 0)
ts = [threading.Thread(target=run) for _ in range(20)]
for th in ts: th.start()
for th in ts: th.join()
for _ in range(20):
    pid = os.fork()
    if pid == 0: os._exit(0)
    os.waitpid(pid, 0)`)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
	me := uint32(cmd.Process.Pid)
	buf := make([]byte, 4096)
	forks, threads, mine := 0, 0, 0
	for {
		n, _, err := unix.Recvfrom(e.fd, buf, unix.MSG_DONTWAIT)
		if err != nil {
			break
		}
		if n < offEventData+8 {
			continue
		}
		what := binary.NativeEndian.Uint32(buf[offWhat:])
		pid, tgid := binary.NativeEndian.Uint32(buf[offEventData:]), binary.NativeEndian.Uint32(buf[offEventData+4:])
		switch {
		case what == procEventFork:
			forks++
		case pid != tgid:
			threads++
		case pid == me:
			mine++
		}
	}
	if forks != 0 || threads != 0 {
		t.Errorf("%d forks and %d threads' events reached the socket, want none", forks, threads)
	}
	if mine < 2 { // python's exec and exit at least
		t.Errorf("%d events of the python process itself reached the socket, want its exec and exit", mine)
	}
}

// Close lets go of the connector's socket, and so does a Live no longer used, once collected.
func TestLiveLetsGoOfItsProcessEvents(t *testing.T) {
	sockettest.NeedRoot(t, "for the kernel's process events")
	open := func(l *Live) string {
		t.Helper()
		if l.procs.events == nil {
			t.Skip("the process events connector could not be opened here")
		}
		link, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(l.procs.events.fd))
		if err != nil || !strings.HasPrefix(link, "socket:[") {
			t.Fatalf("the connector's descriptor: %q, %v", link, err)
		}
		return link
	}
	held := func(link string) bool {
		fds, _ := os.ReadDir("/proc/self/fd")
		for _, fd := range fds {
			if l, _ := os.Readlink("/proc/self/fd/" + fd.Name()); l == link {
				return true
			}
		}
		return false
	}
	l := NewLive()
	link := open(l)
	l.Close()
	if held(link) {
		t.Errorf("%s still open after Close", link)
	}
	link = open(NewLive()) // dropped at once
	sockettest.WaitFor(t, 5*time.Second, "the dropped Live's connector closed", func() (bool, string) {
		runtime.GC()
		return !held(link), link + " still open"
	})
}
