//go:build linux

package collect

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/sockettest"
)

// Everything portwatch reads from the machine is text an attacker chooses:
// a process its name and arguments, anyone who may make a cgroup or a
// network namespace their names. These tests make such names for real and
// check that what reaches the snapshot cannot act on a terminal, and shows
// the escape instead of dropping it.

// listenScript listens on TCP at argv[1] (an address), says the port, and
// holds the listener until its input closes. PW_NAME, when set, is the
// process's new name (prctl PR_SET_NAME), given as Python bytes escapes.
const listenScript = `import ctypes, os, socket, sys
name = os.environ.get("PW_NAME")
if name:
    ctypes.CDLL(None).prctl(15, name.encode("latin-1").decode("unicode_escape").encode("latin-1"), 0, 0, 0)
s = socket.socket()
s.bind((sys.argv[1], 0))
s.listen()
print(s.getsockname()[1], flush=True)
sys.stdin.readline()
`

// TestHostileProcessTextIsCleaned: a real process named with an 8-bit CSI
// (the byte 0x9b, then "2J": clear the screen on terminals that take C1
// controls) and with an OSC sequence (retitle the window) among its
// arguments holds a listener. Its name and command line reach the snapshot
// clean, with the escapes shown.
func TestHostileProcessTextIsCleaned(t *testing.T) {
	cmd := exec.Command(pythonPath(t), "-c", listenScript, "127.0.0.1", "\x1b]0;x\a")
	cmd.Env = append(os.Environ(), `PW_NAME=\x9b2J`)
	c := startChild(t, cmd)
	port := c.port(t)
	if comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", c.pid())); string(comm) != "\x9b2J\n" {
		t.Fatalf("the child's name is %q: the test proves nothing", comm)
	}
	s := listenerOn(t, snapshot(t, NewLive()), port)
	p := s.Process()
	if p == nil || int(p.PID) != c.pid() {
		t.Fatalf("owners %v, want pid %d", s.Owners, c.pid())
	}
	for what, v := range map[string]string{"name": p.Name, "command line": p.Cmdline, "executable": p.Exe, "user": p.User, "unit": p.Unit, "socket user": s.User} {
		assertClean(t, what, v)
	}
	if p.Name != `\x9b2J` {
		t.Errorf("name %q, want the escape shown: %q", p.Name, `\x9b2J`)
	}
	if !strings.HasSuffix(p.Cmdline, ` 127.0.0.1 \x1b]0;x\x07`) {
		t.Errorf("command line %q, want the escape shown at its end: %q", p.Cmdline, `\x1b]0;x\x07`)
	}
}

// cgroup2Root is where the cgroup v2 hierarchy is mounted (/sys/fs/cgroup,
// or /sys/fs/cgroup/unified on a hybrid system), or the test is skipped.
func cgroup2Root(t *testing.T) string {
	t.Helper()
	sockettest.NeedRoot(t, "to make a cgroup")
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		t.Skipf("no mountinfo: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw"
		fields := strings.Fields(sc.Text())
		for i, fld := range fields {
			if fld == "-" && i+1 < len(fields) && fields[i+1] == "cgroup2" && len(fields) > 4 {
				return fields[4]
			}
		}
	}
	t.Skip("no cgroup v2 hierarchy is mounted here")
	return ""
}

// moveToCgroup makes the cgroup dir (a hostile name) under root and moves
// pid into it; when the test ends the process is killed first, then the
// cgroup removed.
func moveToCgroup(t *testing.T, root, dir string, c *child) {
	t.Helper()
	path := filepath.Join(root, dir)
	if err := os.Mkdir(path, 0o755); err != nil {
		t.Skipf("cannot make a cgroup here: %v", err)
	}
	t.Cleanup(func() {
		c.stop()
		// The cgroup empties when the killed process is reaped; the kernel
		// may take a moment to say so.
		for try := 0; try < 50; try++ {
			if err := os.Remove(path); err == nil || errors.Is(err, os.ErrNotExist) {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Errorf("could not remove the test's cgroup %q", path)
	})
	if err := os.WriteFile(filepath.Join(path, "cgroup.procs"), []byte(strconv.Itoa(c.pid())), 0); err != nil {
		t.Skipf("cannot move a process into a cgroup here: %v", err)
	}
	data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", c.pid()))
	if !strings.Contains(string(data), dir) {
		t.Fatalf("the child is not in the cgroup: %q", data)
	}
}

// TestHostileCgroupNamesAreCleaned: a listener moved into a cgroup named
// with an OSC sequence shows that name as its systemd unit clean; a
// listener in a network namespace of its own, moved into a cgroup named as
// docker names its containers but with an escape in the id, gives that
// namespace a clean label.
func TestHostileCgroupNamesAreCleaned(t *testing.T) {
	root := cgroup2Root(t)
	py := pythonPath(t)
	suffix := strconv.Itoa(os.Getpid())

	unitChild := startChild(t, exec.Command(py, "-c", listenScript, "127.0.0.1"))
	unitPort := unitChild.port(t)
	unitDir := "x\x1b]0;cgpwned\a" + suffix + ".scope"
	moveToCgroup(t, root, unitDir, unitChild)

	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("unshare is not installed")
	}
	nsChild := startChild(t, exec.Command("unshare", "--net", "--", py, "-c", listenScript, "0.0.0.0"))
	nsPort := nsChild.port(t)
	// The 12-byte cut of a container id falls inside the escape once shown.
	dockerDir := "docker-\x1b]0;dk\a" + suffix + "pwned.scope"
	moveToCgroup(t, root, dockerDir, nsChild)

	snap := snapshot(t, NewLive())
	s := listenerOn(t, snap, unitPort)
	p := s.Process()
	if p == nil {
		t.Fatalf("no owner for the listener in the cgroup: %s", s.OwnerStatus)
	}
	assertClean(t, "unit", p.Unit)
	if want := `x\x1b]0;cgpwned\x07` + suffix + ".scope"; p.Unit != want {
		t.Errorf("unit %q, want %q", p.Unit, want)
	}

	var found *sockets.Socket
	for i := range snap.Sockets {
		if x := &snap.Sockets[i]; x.LPort == nsPort && x.IsListening() && x.Netns != sockets.HostNetns {
			found = x
		}
	}
	if found == nil {
		t.Fatalf("no listener on %d in the child's namespace", nsPort)
	}
	assertClean(t, "namespace label", found.Netns)
	if !strings.HasPrefix(found.Netns, `docker:\x1b]0;dk`) {
		t.Errorf("namespace label %q, want the container's id with its escape shown", found.Netns)
	}
}

// TestHostileNetnsNameIsCleaned: a namespace made by `ip netns add` with an
// OSC sequence in its name, a listener inside: the label is clean.
func TestHostileNetnsNameIsCleaned(t *testing.T) {
	sockettest.NeedRoot(t, "to make a network namespace")
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("ip is not installed")
	}
	py := pythonPath(t)
	name := "x\x1b]0;ipns\a" + strconv.Itoa(os.Getpid())
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Skipf("cannot make a network namespace here: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", name).Run() })
	c := startChild(t, exec.Command("ip", "netns", "exec", name, py, "-c", listenScript, "0.0.0.0"))
	port := c.port(t)
	var found *sockets.Socket
	snap := snapshot(t, NewLive())
	for i := range snap.Sockets {
		if x := &snap.Sockets[i]; x.LPort == port && x.IsListening() && x.Netns != sockets.HostNetns {
			found = x
		}
	}
	if found == nil {
		t.Fatalf("no listener on %d in the namespace", port)
	}
	assertClean(t, "namespace label", found.Netns)
	if want := `x\x1b]0;ipns\x07` + strconv.Itoa(os.Getpid()); found.Netns != want {
		t.Errorf("namespace label %q, want %q", found.Netns, want)
	}
}

// TestContainerIDsAreCleanedThenCut: an id is cleaned before it is cut to
// 12 bytes, and cut on a character: no half of a UTF-8 character, and no
// raw escape, survives.
func TestContainerIDsAreCleanedThenCut(t *testing.T) {
	for in, want := range map[string]string{
		"0::/system.slice/docker-\x1b[2Jabcdefgh.scope\n":   `docker:\x1b[2Jabcde`,
		"0::/system.slice/docker-abcdefghijkü0123.scope\n":  "docker:abcdefghijk",
		"0::/machine.slice/libpod-\x9b2Jxxxxxxxxxx.scope\n": `podman:\x9b2Jxxxxxx`,
		"12:pids:/docker/\u202eabcdefghijkl\n":              `docker:\u202eabcdef`,
		"0::/machine.slice/systemd-nspawn@a\x07b.service\n": `nspawn:a\x07b`,
		"0::/kubepods/burstable/pod\x1b]0;x\a/abc\n":        `k8s-pod:\x1b]0;x\x07`,
	} {
		got := containerFromCgroup(in)
		assertClean(t, "container label", got)
		if got != want {
			t.Errorf("%q: got %q, want %q", in, got, want)
		}
	}
	if got := systemdUnitFromCgroup("0::/system.slice/a\x1b]0;x\a.service\n"); got != `a\x1b]0;x\x07.service` {
		t.Errorf("unit %q", got)
	}
}

// TestSignalNamesAProcessWithAHostileExecutable: a process run from a path
// holding an escape is read with that path cleaned, and Signal, which
// checks the executable before it signals, still knows it for the same
// process (it compared the cleaned path with the raw one, and refused).
func TestSignalNamesAProcessWithAHostileExecutable(t *testing.T) {
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("sleep is not installed")
	}
	data, err := os.ReadFile(sleep)
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "sl\x1b]0;x\aeep")
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	p := NewLive().procs.get(t.Context(), int32(cmd.Process.Pid))
	if p == nil {
		t.Fatal("the process was not read")
	}
	assertClean(t, "executable", p.Exe)
	if !strings.HasSuffix(p.Exe, `/sl\x1b]0;x\x07eep`) {
		t.Errorf("executable %q, want the escape shown", p.Exe)
	}
	if err := Signal(*p, syscall.SIGTERM); err != nil {
		t.Fatalf("Signal refused the process itself: %v", err)
	}
	if err := cmd.Wait(); err == nil {
		t.Error("the process survived SIGTERM")
	}
}
