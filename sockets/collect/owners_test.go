//go:build linux

package collect

import (
	"net/netip"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/assess"
	"github.com/portwatch/portwatch/sockets/sockettest"
)

// A socket whose owner portwatch cannot name says why, truly: unreadable
// (some processes' descriptors could not be read, and which), gone (the
// owner exited during the poll) or outside (every process was read, and
// none in this pid namespace holds it). Each is made for real here.

// nonDumpableScript listens on 127.0.0.1 from a process that has made
// itself non-dumpable (prctl PR_SET_DUMPABLE 0, as setuid programs and
// hardened daemons are): without CAP_SYS_PTRACE, root may list its
// descriptors but not stat them.
const nonDumpableScript = `import ctypes, socket, sys
ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen()
print(s.getsockname()[1], flush=True)
sys.stdin.readline()
`

// TestOwnerUnreadableAsRootWithoutPtrace: root without CAP_SYS_PTRACE (a
// container's default) reads /proc/PID/fd of a non-dumpable process and
// gets EACCES for every descriptor. Its listener was reported as owned by
// a process outside the pid namespace; it is unreadable, naming that
// process and the reason.
func TestOwnerUnreadableAsRootWithoutPtrace(t *testing.T) {
	sockettest.NeedRoot(t, "to drop CAP_SYS_PTRACE as root")
	if _, err := exec.LookPath("setpriv"); err != nil {
		t.Skip("setpriv is not installed")
	}
	c := startChild(t, exec.Command(pythonPath(t), "-c", nonDumpableScript))
	port := c.port(t)
	got := childSnapshot(t, nil, "setpriv", "--bounding-set=-sys_ptrace", "--inh-caps=-sys_ptrace", "--")
	if !got.Root {
		t.Fatal("the child is not root")
	}
	s := got.socketAt(t, netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port))
	if s.OwnerStatus != sockets.OwnerUnreadable.String() || s.Name != "(unreadable)" {
		t.Fatalf("status %q, name %q; want unreadable (%s)", s.OwnerStatus, s.Name, s.Absence)
	}
	named := false
	for _, u := range s.Unreadable {
		named = named || (int(u.PID) == c.pid() && u.Reason == "permission denied")
	}
	if !named {
		t.Errorf("the unreadable processes %v do not name pid %d, permission denied", s.Unreadable, c.pid())
	}
	// The sentence names the few, and counts the many (which others of
	// this machine's processes are, is not the test's business).
	if !strings.Contains(s.Absence, "permission denied") ||
		!strings.Contains(s.Absence, strconv.Itoa(c.pid())) && !strings.Contains(s.Absence, strconv.Itoa(len(s.Unreadable))+" processes") {
		t.Errorf("the explanation does not say which processes and why: %q", s.Absence)
	}
}

// seteuidScript makes its listener while its effective uid is nobody's,
// then takes root back: the kernel records nobody as the socket's owner,
// and nobody may not read a root process's descriptors.
const seteuidScript = `import os, socket, sys
os.seteuid(65534)
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen()
os.seteuid(0)
print(s.getsockname()[1], flush=True)
sys.stdin.readline()
`

// TestOwnerUnreadableAsNobody: seen by nobody, a socket of nobody's uid
// held by a root process was reported outside; it is unreadable (not
// hidden: the socket is nobody's own).
func TestOwnerUnreadableAsNobody(t *testing.T) {
	sockettest.NeedRoot(t, "to start processes as other users")
	c := startChild(t, exec.Command(pythonPath(t), "-c", seteuidScript))
	port := c.port(t)
	got := childSnapshot(t, nobody)
	s := got.socketAt(t, netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port))
	if s.UID != 65534 {
		t.Fatalf("the socket's uid is %d, want nobody's: the test proves nothing", s.UID)
	}
	if s.OwnerStatus != sockets.OwnerUnreadable.String() || s.Name != "(unreadable)" {
		t.Fatalf("status %q, name %q; want unreadable (%s)", s.OwnerStatus, s.Name, s.Absence)
	}
	named := false
	for _, u := range s.Unreadable {
		named = named || int(u.PID) == c.pid()
	}
	if !named {
		t.Errorf("the unreadable processes (%d) do not name the owner %d", len(s.Unreadable), c.pid())
	}
}

// TestOwnerOutsideInAPidNamespace: the control. Seen from a pid namespace
// of its own (sharing the network namespace), as root with every process
// of that namespace readable, the test's listener is held by no process
// portwatch can see: outside is then the truth.
func TestOwnerOutsideInAPidNamespace(t *testing.T) {
	sockettest.NeedRoot(t, "for a pid namespace")
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("unshare is not installed")
	}
	ln := listenTCP(t, "127.0.0.1:0")
	got := childSnapshot(t, nil, "unshare", "--pid", "--fork", "--mount-proc", "--")
	s := got.socketAt(t, addrPort(t, ln.Addr()))
	if s.OwnerStatus != sockets.OwnerOutside.String() || s.Name != "(outside)" {
		t.Errorf("status %q, name %q; want outside (%s)", s.OwnerStatus, s.Name, s.Absence)
	}
}

// TestOwnerGone: a listener whose owner exits during the poll, at each
// moment it can: after the sockets are listed, for a new socket and for
// one the owner index knew; and after the owners are mapped, before the
// process is read. The owner is gone, not outside; and the socket is not
// taken for one that no process holds (the next poll looks again).
func TestOwnerGone(t *testing.T) {
	py := pythonPath(t)
	for _, tc := range []struct {
		name   string
		warm   bool // a poll before, so the owner index knows the socket
		atList bool // the owner exits after the listing (else after the mapping)
	}{
		{"new socket, exits after the listing", false, true},
		{"known socket, exits after the listing", true, true},
		{"known socket, exits after the mapping", true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := startChild(t, exec.Command(py, "-c", listenScript, "127.0.0.1"))
			port := c.port(t)
			ino := listenerOn(t, snapshot(t, NewLive()), port).Inode
			src := NewLive()
			if tc.warm {
				if s := listenerOn(t, snapshot(t, src), port); !hasOwner(s, c.pid()) {
					t.Fatalf("owners %v before the exit, want %d", s.Owners, c.pid())
				}
			}
			if tc.atList {
				src.afterList = c.stop
			} else {
				src.beforeOwners = c.stop
			}
			s := listenerOn(t, snapshot(t, src), port)
			if s.Inode != ino {
				t.Fatalf("another listener on port %d", port)
			}
			if s.OwnerStatus != sockets.OwnerGone || s.OwnerName() != "(gone)" || len(s.Owners) != 0 {
				t.Errorf("status %s, name %q, owners %v; want gone", s.OwnerStatus, s.OwnerName(), s.Owners)
			}
			if src.index.orphans[ino] {
				t.Error("the socket is recorded as held by no process: it would not be looked for again")
			}
			src.afterList, src.beforeOwners = nil, nil
			for _, x := range snapshot(t, src).Sockets {
				if x.Inode == ino {
					t.Errorf("the closed listener is still listed: %+v", x)
				}
			}
		})
	}
}

// TestUnreadableReasonSummary: the explanation of an unreadable owner
// names the processes and the reason, and stays short when they are many.
func TestUnreadableReasonSummary(t *testing.T) {
	var many []sockets.UnreadableProcess
	for pid := int32(1); pid <= 300; pid++ {
		many = append(many, sockets.UnreadableProcess{PID: pid, Reason: "permission denied"})
	}
	s := sockets.Socket{OwnerStatus: sockets.OwnerUnreadable, Inode: 1, Unreadable: &sockets.UnreadableOwners{Processes: many}}
	text := assess.OwnerAbsence(&s)
	if !strings.Contains(text, "permission denied") || !strings.Contains(text, "300") || !strings.Contains(text, "1, 2, 3") || len(text) > 400 {
		t.Errorf("explanation %q", text)
	}
	one := sockets.Socket{OwnerStatus: sockets.OwnerUnreadable, Inode: 1,
		Unreadable: &sockets.UnreadableOwners{Processes: []sockets.UnreadableProcess{{PID: 1, Reason: "permission denied"}, {PID: 7, Reason: "operation not permitted"}}}}
	text = assess.OwnerAbsence(&one)
	if !strings.Contains(text, "pid 1 (permission denied)") || !strings.Contains(text, "pid 7 (operation not permitted)") {
		t.Errorf("explanation %q", text)
	}
	gone := sockets.Socket{OwnerStatus: sockets.OwnerGone, Inode: 1}
	if text := assess.OwnerAbsence(&gone); !strings.Contains(text, "exited") {
		t.Errorf("gone: %q", text)
	}
}
