//go:build linux

package pkgproof

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/portwatch/portwatch/sockets"
)

// buildRpm makes a real rpm package that installs bin at path, and
// records it in a database of the test's own (rpm --justdb: the file is
// put in place by the test). It returns the database directory.
func buildRpm(t *testing.T, bin, path string) string {
	t.Helper()
	rpmbuild, err := exec.LookPath("rpmbuild")
	if err != nil {
		t.Skip("rpmbuild is not installed")
	}
	dir := t.TempDir()
	spec := fmt.Sprintf(`Name: pwtest
Version: 1.0
Release: 2
Summary: a portwatch test package
License: MIT
%%description
portwatch test
%%install
mkdir -p %%{buildroot}%[1]s
cp %[2]s %%{buildroot}%[3]s
%%files
%[3]s
`, filepath.Dir(path), bin, path)
	must(t, os.WriteFile(filepath.Join(dir, "t.spec"), []byte(spec), 0o644))
	out, err := exec.Command(rpmbuild, "--define", "_topdir "+filepath.Join(dir, "top"), "--define", "__strip /bin/true",
		"--define", "debug_package %{nil}", "-bb", filepath.Join(dir, "t.spec")).CombinedOutput()
	if err != nil {
		t.Skipf("rpmbuild: %v %s", err, out)
	}
	rpms, _ := filepath.Glob(filepath.Join(dir, "top", "RPMS", "*", "*.rpm"))
	if len(rpms) != 1 {
		t.Fatalf("rpmbuild made %v", rpms)
	}
	db := filepath.Join(dir, "db")
	if out, err := exec.Command("rpm", "--dbpath", db, "--initdb").CombinedOutput(); err != nil {
		t.Skipf("rpm --initdb: %v %s", err, out)
	}
	if out, err := exec.Command("rpm", "--dbpath", db, "-i", "--justdb", "--nodeps", rpms[0]).CombinedOutput(); err != nil {
		t.Fatalf("rpm -i --justdb: %v %s", err, out)
	}
	return db
}

// On an rpm system the package's own database is asked: a file it owns
// whose content matches its digest is proven, with name and version; one
// that differs is modified; one it does not own is unowned.
func TestRpmOwnershipAndDigest(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root for a root-owned directory")
	}
	bin := sleepPath(t)
	dir, err := os.MkdirTemp("/usr/local/lib", "pwtest-rpm-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	path := filepath.Join(dir, "pw-sshd")
	db := buildRpm(t, bin, path)
	c := NewAt("/proc", "/nonexistent-dpkg", db)

	cmd := startCopy(t, bin, path)
	id := c.Check(int32(cmd.Process.Pid), path, false)
	if id.Proof != sockets.ProofPackage || id.Manager != "rpm" || id.PackageWords() != "pwtest 1.0-2" {
		t.Fatalf("the packaged file: %+v", id)
	}

	other := filepath.Join(dir, "other")
	cmd = startCopy(t, bin, other)
	if id := c.Check(int32(cmd.Process.Pid), other, false); id.Proof != sockets.ProofUnowned || id.Manager != "rpm" {
		t.Fatalf("a file rpm does not own: %+v", id)
	}

	// The packaged path with other content (the same program with bytes
	// appended, which still runs): it differs from the package.
	data, err := os.ReadFile(bin)
	must(t, err)
	os.Remove(path)
	must(t, os.WriteFile(path, append(data, "implant"...), 0o755))
	cmd = start(t, path)
	if id := c.Check(int32(cmd.Process.Pid), path, false); id.Proof != sockets.ProofModified || id.Package != "pwtest" {
		t.Fatalf("a replaced file: %+v", id)
	}
}

// On a merged-/usr system a package may list a file under /lib, /bin or
// /sbin while the kernel names the running file by its /usr path (and the
// other way round): rpm is asked under each form the file has, so such a
// file is proven, not "owned by no package".
func TestRpmMergedUsrForms(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root for a root-owned directory")
	}
	if target, err := os.Readlink("/lib"); err != nil || filepath.Clean(target) != "usr/lib" {
		t.Skip("not a merged-/usr system: /lib is not a link to usr/lib")
	}
	bin := sleepPath(t)
	dir, err := os.MkdirTemp("/usr/lib", "pwtest-rpm-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	listed := filepath.Join("/lib", filepath.Base(dir), "pw-sshd") // how the package lists it
	running := filepath.Join(dir, "pw-sshd")                       // how /proc/PID/exe names it
	db := buildRpm(t, bin, listed)
	c := NewAt("/proc", "/nonexistent-dpkg", db)
	cmd := startCopy(t, bin, running)
	if id := c.Check(int32(cmd.Process.Pid), running, false); id.Proof != sockets.ProofPackage || id.PackageWords() != "pwtest 1.0-2" {
		t.Fatalf("a file the package lists under /lib, running as %s: %+v", running, id)
	}
}
