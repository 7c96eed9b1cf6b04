//go:build linux

package pkgproof

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/portwatch/portwatch/sockets"
)

// startCopy copies a real binary to path (made by the test, removed at
// cleanup) and runs it as "sleep 60"; it returns the process.
func startCopy(t *testing.T, from, path string) *exec.Cmd {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Skip(err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(path) })
	return start(t, path)
}

func start(t *testing.T, bin string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin, "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd
}

func sleepPath(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep")
	}
	p, _ = filepath.EvalSymlinks(p)
	return p
}

func requireDpkg(t *testing.T) {
	t.Helper()
	if _, err := os.Stat("/var/lib/dpkg/status"); err != nil {
		t.Skip("not a dpkg system")
	}
}

// A packaged binary is proven, its package and version named.
func TestPackagedBinaryIsProven(t *testing.T) {
	requireDpkg(t)
	bin := sleepPath(t)
	cmd := start(t, bin)
	c := New()
	id := c.Check(int32(cmd.Process.Pid), bin, false)
	if id.Proof != sockets.ProofPackage || id.Package != "coreutils" || id.Version == "" || id.Manager != "dpkg" {
		t.Fatalf("sleep: %+v", id)
	}
	if !strings.Contains(id.Reason, "coreutils "+id.Version) {
		t.Errorf("reason: %q", id.Reason)
	}
	// A second process of the same file is answered from the cache, unhashed.
	cmd2 := start(t, bin)
	id2 := c.Check(int32(cmd2.Process.Pid), bin, false)
	if checks, hashes := c.Stats(); id2 != id || hashes != 1 || checks != 1 {
		t.Errorf("second check: same=%v checks=%d hashes=%d", id2 == id, checks, hashes)
	}
}

// A copy of a packaged binary in a root-owned directory no package lists
// is unowned, however well it is named.
func TestCopyAtUnownedPathIsUnowned(t *testing.T) {
	requireDpkg(t)
	path := filepath.Join("/usr/local/sbin", "pw-test-sshd")
	cmd := startCopy(t, sleepPath(t), path)
	id := New().Check(int32(cmd.Process.Pid), path, false)
	if id.Proof != sockets.ProofUnowned || !id.Disproven() || !strings.Contains(id.Reason, path) {
		t.Fatalf("copy: %+v", id)
	}
}

// A file a package lists whose content differs from the package's
// checksum is modified. The dpkg database is the test's own (a real file
// list and checksum, for a real running file), so no installed file need
// be altered.
func TestBinaryThatDiffersFromItsPackageIsModified(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "bin", "pw-sshd")
	cmd := startCopy(t, sleepPath(t), path)
	writeDpkg(t, dir, "openssh-server", "1:9.2p1-2", path, strings.Repeat("0", 32))
	c := NewAt("/proc", filepath.Join(dir, "dpkg"), "/nonexistent")
	id := c.Check(int32(cmd.Process.Pid), path, false)
	if id.Proof != sockets.ProofModified || id.Package != "openssh-server" || id.Version != "1:9.2p1-2" {
		t.Fatalf("modified: %+v", id)
	}
	// The right checksum, and dpkg's status touched: proven, the index built again.
	data, _ := os.ReadFile(path)
	sum := md5.Sum(data)
	writeDpkg(t, dir, "openssh-server", "1:9.2p1-3", path, hex.EncodeToString(sum[:]))
	id = c.Check(int32(cmd.Process.Pid), path, false)
	if id.Proof != sockets.ProofPackage || id.PackageWords() != "openssh-server 1:9.2p1-3" {
		t.Fatalf("after the upgrade: %+v", id)
	}
}

func writeDpkg(t *testing.T, dir, pkg, version, path, md5sum string) {
	t.Helper()
	d := filepath.Join(dir, "dpkg")
	os.MkdirAll(filepath.Join(d, "info"), 0o755)
	fields := "Package: " + pkg + "\nStatus: install ok installed\nArchitecture: amd64\nVersion: " + version + "\n\n"
	must(t, os.WriteFile(filepath.Join(d, "status.new"), []byte(fields), 0o644))
	must(t, os.WriteFile(filepath.Join(d, "info", pkg+".list"), []byte("/.\n"+filepath.Dir(path)+"\n"+path+"\n"), 0o644))
	must(t, os.WriteFile(filepath.Join(d, "info", pkg+".md5sums"), []byte(md5sum+"  "+strings.TrimPrefix(path, "/")+"\n"), 0o644))
	// Each write moves the mtime a second on, as an upgrade a while later
	// would, whatever the clock's resolution.
	status := filepath.Join(d, "status")
	prev, err := os.Stat(status)
	must(t, os.Rename(filepath.Join(d, "status.new"), status))
	if err == nil {
		next := prev.ModTime().Add(time.Second)
		must(t, os.Chtimes(status, next, next))
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// Without a package database a root-owned system file is proven as far as
// that goes, and the reason says it is all that was proven; a file in a
// directory others may write is not.
func TestWithoutPackageDatabaseSystemPathIsAllThatIsProven(t *testing.T) {
	c := NewAt("/proc", "/nonexistent-dpkg", "/nonexistent-rpm")
	bin := sleepPath(t)
	cmd := start(t, bin)
	id := c.Check(int32(cmd.Process.Pid), bin, false)
	if id.Proof != sockets.ProofSystemPath || !id.Proven() || !strings.Contains(id.Reason, "all that is proven") {
		t.Fatalf("system path: %+v", id)
	}
	tmp := filepath.Join(t.TempDir(), "sshd")
	cmd = startCopy(t, bin, tmp)
	if id := c.Check(int32(cmd.Process.Pid), tmp, false); id.Proof != sockets.ProofUnowned {
		t.Fatalf("a file outside system directories: %+v", id)
	}
}

// A process that is gone, and an executable that cannot be named, are
// unproven with a reason, never a panic.
func TestUnreadableIsUnproven(t *testing.T) {
	c := New()
	if id := c.Check(1<<30, "/usr/sbin/sshd", false); id.Proof != sockets.ProofUnproven || id.Reason == "" {
		t.Errorf("no such process: %+v", id)
	}
	if id := c.Check(1, "", false); id.Proof != sockets.ProofUnproven || id.Reason == "" {
		t.Errorf("no executable: %+v", id)
	}
}

// The merged-/usr aliases of a path.
func TestAliases(t *testing.T) {
	for exe, want := range map[string]string{"/usr/bin/sh": "/bin/sh", "/sbin/init": "/usr/sbin/init", "/usr/lib/x/y": "/lib/x/y", "/opt/a": ""} {
		got := aliases(exe)
		if want == "" && len(got) != 1 || want != "" && (len(got) != 2 || got[1] != want) {
			t.Errorf("aliases(%s) = %v", exe, got)
		}
	}
}

// A process in a mount namespace of its own on this machine's root
// (`unshare --mount`, as any user may make): where its path is the same
// file as here, this machine's proof applies; where the path leads to
// another file (or to none here), something was mounted over it, and the
// name is disproven (mounted-over), not merely unproven.
func TestPrivateMountNamespaceProcess(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to make a mount namespace")
	}
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		t.Skip("no unshare")
	}
	bin := sleepPath(t)
	cmd := exec.Command(unshare, "--mount", "--", bin, "60")
	if err := cmd.Start(); err != nil {
		t.Skip(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	// Wait, bounded, for unshare to exec sleep in its new namespace.
	c := New()
	deadline := time.Now().Add(5 * time.Second)
	for {
		exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", cmd.Process.Pid))
		if c.otherMountNS(int32(cmd.Process.Pid)) && exe == bin {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the process never ran sleep in its own mount namespace")
		}
		time.Sleep(10 * time.Millisecond)
	}
	pid := int32(cmd.Process.Pid)
	elsewhere := "/bin/sh" // here another file than the sleep it runs
	if _, err := os.Stat(elsewhere); err != nil {
		t.Skip(err)
	}
	if id := c.Check(pid, elsewhere, false); id.Proof != sockets.ProofMounted || !id.Disproven() {
		t.Errorf("a path that leads elsewhere than here: %+v", id)
	}
	// A path this machine does not have: its private /run's, nothing of
	// this machine's mounted over (a lab's helper seen from the host).
	absent := filepath.Join(t.TempDir(), "nowhere", "nginx")
	if id := c.Check(pid, absent, false); id.Proof != sockets.ProofUnowned {
		t.Errorf("a path this machine does not have: %+v, want unowned", id)
	}
	if id := c.Check(pid, bin, false); id.Proof == sockets.ProofMounted || id.Disproven() {
		t.Errorf("the same file as this machine's %s: %+v", bin, id)
	}
}
