//go:build linux

package collect

import (
	"context"
	"encoding/json"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/assess"
	"github.com/portwatch/portwatch/sockets/sockettest"
)

// Views other than the test's own are tested for real: the test binary runs
// itself again (as the user nobody, without a capability, in a pid
// namespace of its own), and that child reports what it sees of the test's
// listeners.
const childSnapshotEnv = "PORTWATCH_TEST_CHILD_SNAPSHOT"

func TestMain(m *testing.M) {
	if os.Getenv(inPidNamespaceEnv) != "" {
		if err := pidReuseScene(); err != nil {
			os.Stdout.WriteString("pid reuse: " + err.Error() + "\n")
			os.Exit(1)
		}
		os.Stdout.WriteString("pid reuse: refused\n")
		os.Exit(0)
	}
	if os.Getenv(childRenameEnv) != "" {
		renameChild() // procevents_test.go
	}
	if os.Getenv(childSnapshotEnv) != "" {
		snap, err := NewLive().Snapshot(context.Background())
		if err != nil {
			os.Stderr.WriteString(err.Error())
			os.Exit(1)
		}
		json.NewEncoder(os.Stdout).Encode(summarize(snap))
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// childView is what a child run in another view reports of its snapshot.
type childView struct {
	Root         bool
	Hidden       int
	NetnsSkipped int
	Sockets      []childSocket
}

type childSocket struct {
	Local       netip.Addr
	LPort       uint16
	PID         int32
	UID         uint32
	OwnerStatus string
	User        string // as a row shows it
	Name        string // as a row shows it
	Absence     string // why no process is shown
	Unreadable  []sockets.UnreadableProcess
}

func summarize(snap *sockets.Snapshot) childView {
	v := childView{Root: snap.Root, Hidden: snap.Hidden, NetnsSkipped: snap.NetnsSkipped}
	for i := range snap.Sockets {
		s := &snap.Sockets[i]
		c := childSocket{Local: s.Local, LPort: s.LPort, PID: s.PID(), UID: s.UID, OwnerStatus: s.OwnerStatus.String(),
			User: s.OwnerUser(), Name: s.OwnerName(), Absence: assess.OwnerAbsence(s)}
		if s.Unreadable != nil {
			c.Unreadable = s.Unreadable.Processes
		}
		v.Sockets = append(v.Sockets, c)
	}
	return v
}

// childSnapshot runs the test binary again as prefix says, with cred when
// not nil (runChild), and returns its snapshot report.
func childSnapshot(t *testing.T, cred *syscall.Credential, prefix ...string) childView {
	t.Helper()
	out := runChild(t, childSnapshotEnv, cred, prefix...)
	var got childView
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("the child's report: %v\n%s", err, out)
	}
	return got
}

// runChild runs the test binary again with env set to 1 (which child it
// is), as its program says (argv ends with the binary, prefix holds what
// runs it: setpriv, unshare), with cred when not nil, and returns what it
// printed. The binary is copied where any user may run it: go test leaves
// it in a private folder.
func runChild(t *testing.T, env string, cred *syscall.Credential, prefix ...string) []byte {
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
	cmd.Env = append(os.Environ(), env+"=1")
	if cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("the child in %v: %v\n%s", args, err, stderr.String())
	}
	return out
}

// socketAt is the child's report of the socket bound to want, or a failed test.
func (v childView) socketAt(t *testing.T, want netip.AddrPort) childSocket {
	t.Helper()
	for _, s := range v.Sockets {
		if s.LPort == want.Port() && s.Local == want.Addr() {
			return s
		}
	}
	t.Fatalf("the child's snapshot has no socket on %v", want)
	return childSocket{}
}

func TestWithoutRootOtherUsersOwnersAreHiddenNotDropped(t *testing.T) {
	sockettest.NeedRoot(t, "to start a child as another user")
	ln := listenTCP(t, "127.0.0.1:0")
	got := childSnapshot(t, nobody)
	if got.Root || got.Hidden == 0 {
		t.Errorf("root %v, hidden %d: want a non-root snapshot that counts hidden owners", got.Root, got.Hidden)
	}
	if got.NetnsSkipped == 0 {
		t.Errorf("netns skipped %d: want the snapshot to count the namespaces it could not read", got.NetnsSkipped)
	}
	want := addrPort(t, ln.Addr())
	for _, s := range got.Sockets {
		if s.LPort == want.Port() && s.Local == want.Addr() {
			if s.PID != 0 || s.OwnerStatus != sockets.OwnerHidden.String() || s.UID != 0 {
				t.Errorf("our listener as nobody sees it: pid %d status %q uid %d; want 0, hidden, 0", s.PID, s.OwnerStatus, s.UID)
			}
			if s.User != "root" { // it was "uid 0"
				t.Errorf("our listener's user as nobody sees it: %q, want root", s.User)
			}
			return
		}
	}
	t.Errorf("our root-owned listener %v was dropped from nobody's snapshot", want)
}

// nobody is the credential of the user nobody.
var nobody = &syscall.Credential{Uid: 65534, Gid: 65534}

func copyFile(t *testing.T, dst string) {
	t.Helper()
	src, err := os.Open("/proc/self/exe")
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	if _, err := io.Copy(out, src); err != nil {
		t.Fatal(err)
	}
}
