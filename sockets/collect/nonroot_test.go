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
	"syscall"
	"testing"

	"github.com/portwatch/portwatch/sockets"
)

// The non-root view is tested for real: the test binary runs itself again as
// the user nobody, and that child reports what it sees of our listener.
const asNobodyEnv = "PORTWATCH_TEST_SNAPSHOT_AS_NOBODY"

func TestMain(m *testing.M) {
	if os.Getenv(inPidNamespaceEnv) != "" {
		if err := pidReuseScene(); err != nil {
			os.Stdout.WriteString("pid reuse: " + err.Error() + "\n")
			os.Exit(1)
		}
		os.Stdout.WriteString("pid reuse: refused\n")
		os.Exit(0)
	}
	if os.Getenv(asNobodyEnv) != "" {
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

// nobodysView is what the child run as nobody reports of its snapshot.
type nobodysView struct {
	Root         bool
	Hidden       int
	NetnsSkipped int
	Sockets      []nobodysSocket
}

type nobodysSocket struct {
	Local       netip.Addr
	LPort       uint16
	PID         int32
	UID         uint32
	OwnerStatus string
	User        string // as a row shows it
}

func summarize(snap *sockets.Snapshot) nobodysView {
	v := nobodysView{Root: snap.Root, Hidden: snap.Hidden, NetnsSkipped: snap.NetnsSkipped}
	for i := range snap.Sockets {
		s := &snap.Sockets[i]
		v.Sockets = append(v.Sockets, nobodysSocket{s.Local, s.LPort, s.PID(), s.UID, s.OwnerStatus.String(), s.OwnerUser()})
	}
	return v
}

func TestWithoutRootOtherUsersOwnersAreHiddenNotDropped(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to start a child as another user")
	}
	ln := listenTCP(t, "127.0.0.1:0")
	// The go test binary sits in a private temporary folder: copy it where
	// nobody may run it.
	dir, err := os.MkdirTemp("", "portwatch-nobody-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	os.Chmod(dir, 0o755)
	bin := filepath.Join(dir, "test")
	copyFile(t, bin)
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), asNobodyEnv+"=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("snapshot as nobody: %v", err)
	}
	var got nobodysView
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
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
