package sockets

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
)

// The non-root view is tested for real: the test binary runs itself again as
// the user nobody, and that child reports what it sees of our listener.
const asNobodyEnv = "PORTWATCH_TEST_SNAPSHOT_AS_NOBODY"

func TestMain(m *testing.M) {
	if os.Getenv(asNobodyEnv) != "" {
		snap, err := NewLive().Snapshot(context.Background())
		if err != nil {
			os.Stderr.WriteString(err.Error())
			os.Exit(1)
		}
		json.NewEncoder(os.Stdout).Encode(snap)
		os.Exit(0)
	}
	os.Exit(m.Run())
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
	bin := filepath.Join(dir, "sockets.test")
	copyFile(t, bin)
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), asNobodyEnv+"=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("snapshot as nobody: %v", err)
	}
	var got struct {
		Root         bool   `json:"root"`
		HiddenOwners int    `json:"hidden_owners"`
		HiddenReason string `json:"hidden_reason"`
		NetnsSkipped int    `json:"netns_skipped"`
		NetnsReason  string `json:"netns_reason"`
		Sockets      []struct {
			LocalAddress string `json:"local_address"`
			LocalPort    uint16 `json:"local_port"`
			PID          int32  `json:"pid"`
			UID          uint32 `json:"uid"`
			OwnerStatus  string `json:"owner_status"`
		} `json:"sockets"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	if got.Root || got.HiddenOwners == 0 || got.HiddenReason == "" {
		t.Errorf("root %v, hidden %d, reason %q: want a non-root snapshot that says owners are hidden", got.Root, got.HiddenOwners, got.HiddenReason)
	}
	if got.NetnsSkipped == 0 || got.NetnsReason == "" {
		t.Errorf("netns skipped %d, reason %q: want the snapshot to say namespaces were skipped", got.NetnsSkipped, got.NetnsReason)
	}
	want := addrPort(t, ln.Addr())
	for _, s := range got.Sockets {
		if s.LocalPort == want.Port() && netip.MustParseAddr(s.LocalAddress) == want.Addr() {
			if s.PID != 0 || s.OwnerStatus != OwnerHidden.String() || s.UID != 0 {
				t.Errorf("our listener as nobody sees it: pid %d status %q uid %d; want 0, hidden, 0", s.PID, s.OwnerStatus, s.UID)
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
