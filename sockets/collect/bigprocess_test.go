//go:build linux

package collect

import (
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// bigHolderScript forks: the child makes a listener and keeps it; the parent
// holds 300 socket descriptors (socket pairs), says "PARENT CHILD INODE",
// and on its first input line closes one of its sockets and receives the
// child's listener over SCM_RIGHTS at the number freed: its descriptor count
// and numbers stay the same, and it now holds a socket the child holds. On
// the next line it opens two sockets more.
const bigHolderScript = `import os, socket, sys, time
a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
pid = os.fork()
if pid == 0:
    a.close()
    ln = socket.socket()
    ln.bind(("127.0.0.1", 0))
    ln.listen()
    b.sendall(str(os.fstat(ln.fileno()).st_ino).encode() + b"\n")
    b.recv(1)
    socket.send_fds(b, [b"x"], [ln.fileno()])
    time.sleep(3600)
    os._exit(0)
b.close()
held = [s for _ in range(150) for s in socket.socketpair()]
ino = a.makefile().readline().strip()
print(os.getpid(), pid, ino, flush=True)
sys.stdin.readline()
held.pop().close()
a.sendall(b"k")
msg, fds, flags, addr = socket.recv_fds(a, 16, 1)
print("got", fds[0], flush=True)
sys.stdin.readline()
held.extend(socket.socketpair())
print("more", flush=True)
sys.stdin.readline()
os.kill(pid, 9)
`

// TestPeriodicWalkPassesUnchangedBigProcessBy: the periodic walk does not
// read again a process with many descriptors whose fd directory says it is
// the same process with as many descriptors; a socket it received at a
// freed number, keeping its count, is noticed within bigUnchangedFor.
func TestPeriodicWalkPassesUnchangedBigProcessBy(t *testing.T) {
	py := pythonPath(t)
	c := startChild(t, exec.Command(py, "-c", bigHolderScript))
	f := strings.Fields(c.line(t))
	if len(f) != 3 {
		t.Fatalf("the child said %q", f)
	}
	parent, _ := strconv.Atoi(f[0])
	sender, _ := strconv.Atoi(f[1])
	ino, _ := strconv.ParseUint(f[2], 10, 64)
	t.Cleanup(func() { exec.Command("kill", "-9", f[1]).Run() })
	pids := []int32{int32(parent), int32(sender)}
	slices.Sort(pids)
	ix := newOwnerIndex("/proc")
	now := time.Now()
	ix.update(pids, nil, now)
	if d := ix.meta[int32(parent)].whole; d.count < bigProcess {
		t.Skipf("the fd directory's size says %d descriptors: a kernel before 6.2, where every process is read as before", d.count)
	}
	var one [1]int32
	if got := ix.owners(ino, &one); !slices.Equal(got, []int32{int32(sender)}) {
		t.Fatalf("the listener's owners %v, want the sender %d", got, sender)
	}
	// A round of the periodic walk: both processes are due. The sender,
	// small, is read; the parent, unchanged, is passed by.
	walks, read := ix.pidWalks, ix.fdsRead
	now = now.Add(fullWalkEvery)
	ix.update(pids, nil, now)
	if ix.passedBy != 1 || ix.pidWalks != walks+1 {
		t.Errorf("a round read %d processes and passed %d by, want 1 and 1 (the unchanged big one)", ix.pidWalks-walks, ix.passedBy)
	}
	if ix.fdsRead-read >= bigProcess {
		t.Errorf("a round read %d descriptors: the big process was read again", ix.fdsRead-read)
	}
	// The parent receives the listener at the number it freed.
	c.say(t, "swap")
	if l := c.line(t); !strings.HasPrefix(l, "got ") {
		t.Fatalf("the child said %q", l)
	}
	now = now.Add(fullWalkEvery)
	ix.update(pids, nil, now)
	if got := ix.owners(ino, &one); !slices.Equal(got, []int32{int32(sender)}) {
		t.Logf("the swap was noticed within a round: owners %v", got)
	}
	// Within bigUnchangedFor of its last whole read, it is read whole again.
	for i := 0; i < int(bigUnchangedFor/fullWalkEvery)+1; i++ {
		now = now.Add(fullWalkEvery)
		ix.update(pids, nil, now)
	}
	want := []int32{int32(parent), int32(sender)}
	slices.Sort(want)
	if got := ix.owners(ino, &one); !slices.Equal(got, want) {
		t.Errorf("after %v the listener's owners are %v, want both %v", bigUnchangedFor, got, want)
	}
	// A process whose count moved is read at its turn.
	c.say(t, "more")
	if l := c.line(t); l != "more" {
		t.Fatalf("the child said %q", l)
	}
	walks, passed := ix.pidWalks, ix.passedBy
	now = now.Add(fullWalkEvery)
	ix.update(pids, nil, now)
	if ix.pidWalks != walks+2 || ix.passedBy != passed {
		t.Errorf("after the count moved a round read %d processes and passed %d by, want 2 and 0", ix.pidWalks-walks, ix.passedBy-passed)
	}
}
