//go:build linux

package collect

import (
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// handoverScript forks: the child waits for a descriptor on a Unix socket
// pair; the parent listens, says "PORT SENDER RECEIVER", and on its first
// input line passes the listener to the child with SCM_RIGHTS, closes its
// own descriptor and says "sent" once the child has it.
const handoverScript = `import os, socket, sys, time
a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
pid = os.fork()
if pid == 0:
    a.close()
    msg, fds, flags, addr = socket.recv_fds(b, 16, 1)
    b.sendall(b"k")
    time.sleep(3600)
    os._exit(0)
b.close()
ln = socket.socket()
ln.bind(("127.0.0.1", 0))
ln.listen()
print(ln.getsockname()[1], os.getpid(), pid, flush=True)
sys.stdin.readline()
socket.send_fds(a, [b"x"], [ln.fileno()])
ln.close()
a.recv(1)
print("sent", flush=True)
sys.stdin.readline()
os.kill(pid, 9)
`

// TestListenerHandedOverIsReattributed: a listener passed to another
// process with SCM_RIGHTS, and closed by the sender, is the receiver's in
// the next poll, not the sender's until the owner index's next full walk
// (30 s).
func TestListenerHandedOverIsReattributed(t *testing.T) {
	py := pythonPath(t)
	c := startChild(t, exec.Command(py, "-c", handoverScript))
	f := strings.Fields(c.line(t))
	if len(f) != 3 {
		t.Fatalf("the child said %q", f)
	}
	port, _ := strconv.ParseUint(f[0], 10, 16)
	sender, _ := strconv.Atoi(f[1])
	receiver, _ := strconv.Atoi(f[2])
	t.Cleanup(func() { exec.Command("kill", "-9", f[2]).Run() })
	src := NewLive()
	before := listenerOn(t, snapshot(t, src), uint16(port))
	if !hasOwner(before, sender) || hasOwner(before, receiver) {
		t.Fatalf("before the handover: owners %v, want the sender %d alone", ownerPIDs(before), sender)
	}
	start := time.Now()
	c.say(t, "send")
	if l := c.line(t); l != "sent" {
		t.Fatalf("the child said %q", l)
	}
	after := listenerOn(t, snapshot(t, src), uint16(port))
	if time.Since(start) >= fullWalkEvery {
		t.Skip("the handover took longer than a full walk's period: the test proves nothing")
	}
	if !hasOwner(after, receiver) || hasOwner(after, sender) {
		t.Errorf("after the handover: owners %v (%s), want the receiver %d alone (the sender was %d)", ownerPIDs(after), after.OwnerStatus, receiver, sender)
	}
}
