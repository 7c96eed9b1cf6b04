//go:build linux

package assess

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/sockettest"
)

// userRoot makes a root directory that user nobody owns, as any user may
// make one in their home: a copy of python3 at its /usr/bin/redis-server
// and a listener's script; the libraries python needs are bind-mounted in
// by the process's own user namespace. It returns the directory.
func userRoot(t *testing.T, port uint16) string {
	t.Helper()
	parent := rootDir(t)
	if err := os.Chmod(parent, 0o755); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(parent, "home")
	py, err := os.ReadFile(realPython(t))
	if err != nil {
		t.Skip(err)
	}
	for _, d := range []string{"usr/bin", "usr/lib", "usr/lib64", "old", "proc"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	os.Symlink("usr/lib", filepath.Join(dir, "lib"))
	os.Symlink("usr/lib64", filepath.Join(dir, "lib64"))
	files := map[string][]byte{
		"usr/bin/redis-server": py,
		"srv.py":               []byte("import socket,time\ns=socket.socket(); s.bind(('127.0.0.1'," + strconv.Itoa(int(port)) + ")); s.listen(); time.sleep(60)\n"),
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// nobody's (65534): the whole tree is theirs to write.
	err = filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, 65534, 65534)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// The steps of a user entering their own root $D (userRoot) from a user
// and mount namespace of theirs: pivot_root needs the new root to be a
// mount point; python's libraries are bind-mounted in; from outside, the
// path of the process's executable then reads /usr/bin/redis-server, the
// packaged daemon's.
const (
	userPivotMount = "mount --bind $D $D && "
	userLibs       = "mount --bind /usr/lib $D/usr/lib && mount --bind /usr/lib64 $D/usr/lib64 && "
	userPivotEnter = "cd $D && pivot_root . old && cd / && exec /usr/bin/redis-server /srv.py"
)

// userNamespacesClosed says why user nobody may not make a user namespace
// here (a sysctl or an LSM closes them), or "".
func userNamespacesClosed() string {
	if err := exec.Command("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "unshare", "-r", "-m", "true").Run(); err != nil {
		return fmt.Sprintf("user namespaces are not open to users here (unshare -r as nobody: %v)", err)
	}
	return ""
}

// A user's own root, entered from a user namespace of theirs (`unshare
// -r`, a mount namespace, then chroot or pivot_root into a directory they
// own), is no container runtime's image: a copy of python3 at its
// /usr/bin/redis-server is not redis, whatever this machine's packages
// say of that path. Before, a process whose root was not portwatch's
// read as "a container" (identity unproven), and an unproven program
// still counted as its name: the pivot_root one passed as redis-server.
func TestRealUserOwnedRootIsNotTheDaemon(t *testing.T) {
	sockettest.NeedRoot(t, "to start a process as nobody and read its executable")
	requireRootDpkg(t)
	for _, tool := range []string{"unshare", "setpriv", "chroot", "pivot_root"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed", tool)
		}
	}
	if why := userNamespacesClosed(); why != "" {
		t.Skip(why)
	}
	cases := []struct{ name, mount, enter string }{
		{"chroot", "", "exec chroot $D /usr/bin/redis-server /srv.py"},
		{"pivot_root", userPivotMount, userPivotEnter},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			port := freePort(t)
			dir := userRoot(t, port)
			cmd := exec.Command("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "unshare", "-r", "-m", "sh", "-c", c.mount+userLibs+c.enter)
			cmd.Env = append(os.Environ(), "D="+dir)
			cmd.Stderr = os.Stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
			v := liveVerdictOf(t, cmd.Process.Pid, func(s *sockets.Socket) bool { return s.IsListening() && s.LPort == port })
			if v.Service != nil && strings.Contains(v.Service.Program, "redis") {
				t.Errorf("a python in a root nobody owns is named by its program: %+v", v.Service)
			}
			if id := v.Socket.Process().Identity; id == nil || !id.Disproven() {
				t.Errorf("identity of a file in a root nobody owns: %+v", id)
			}
			f := hasCode(v.Findings, CodeUnownedExe)
			if f == nil || f.Severity != RiskHigh {
				t.Fatalf("no HIGH %s finding: %+v", CodeUnownedExe, v.Findings)
			}
			if !strings.Contains(f.Text, "redis-server") {
				t.Errorf("the finding does not name the claim: %s", f.Text)
			}
			t.Log(f.Text)
		})
	}
}
