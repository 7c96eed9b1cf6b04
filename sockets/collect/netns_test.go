//go:build linux

package collect

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/assess"
	"github.com/portwatch/portwatch/sockets/sockettest"
)

func TestContainerFromCgroup(t *testing.T) {
	cases := map[string]string{
		"0::/system.slice/docker-0123456789abcdef0123.scope\n":                                                                      "docker:0123456789ab",
		"12:pids:/docker/fedcba9876543210aaaa\n0::/\n":                                                                              "docker:fedcba987654",
		"0::/machine.slice/libpod-abcdefabcdef1234.scope/container\n":                                                               "podman:abcdefabcdef",
		"0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1234_5678.slice/cri-containerd-99887766554433.scope\n": "containerd:998877665544",
		"0::/kubepods/burstable/pod0a1b2c3d/abcdef\n":                                                                               "k8s-pod:0a1b2c3d",
		// The systemd driver: the uid follows "-pod", not the "pod" of "kubepods".
		"0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod0a1b_2c3d.slice\n": "k8s-pod:0a1b-2c3d",
		"0::/kubepods.slice/kubepods-pod0a1b_2c3d.slice/crio-aabbccddeeff0011.scope\n":        "crio:aabbccddeeff",
		"0::/machine.slice/systemd-nspawn@my\\x2dbox.service/payload\n":                       "nspawn:my-box",
		"0::/user.slice/user-1000.slice/session-2.scope\n":                                    "",
		"0::/\n":  "",
		"garbage": "",
	}
	for in, want := range cases {
		if got := containerFromCgroup(in); got != want {
			t.Errorf("%q: got %q, want %q", in, got, want)
		}
	}
}

// TestListenerInAnotherNamespace makes a namespace with ip netns, runs a
// listener in it, and checks that portwatch sees it there with its pid,
// while ss in the host namespace does not; and that it goes when its
// process ends.
func TestListenerInAnotherNamespace(t *testing.T) {
	sockettest.NeedRoot(t, "to make a network namespace")
	for _, tool := range []string{"ip", "python3"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed", tool)
		}
	}
	name := fmt.Sprintf("pwtest%d", os.Getpid())
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Skipf("cannot make a network namespace here: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", name).Run() })
	if out, err := exec.Command("ip", "-n", name, "link", "set", "lo", "up").CombinedOutput(); err != nil {
		t.Fatalf("lo up: %v %s", err, out)
	}
	const port = 47123
	cmd := exec.Command("ip", "netns", "exec", name, "python3", "-c",
		fmt.Sprintf(`import socket,sys,time
s=socket.socket(); s.bind(("0.0.0.0",%d)); s.listen(); print("ready", flush=True); time.sleep(60)`, port))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Skipf("cannot run python3 in the namespace: %v", err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	buf := make([]byte, 6)
	if _, err := io.ReadFull(out, buf); err != nil || string(buf) != "ready\n" {
		t.Fatalf("the listener did not start: %q %v", buf, err)
	}

	src := NewLive()
	var found *sockets.Socket
	snap := snapshot(t, src)
	for i := range snap.Sockets {
		s := &snap.Sockets[i]
		if s.LPort == port && s.IsListening() && s.Netns == name {
			found = s
		}
		if s.LPort == port && s.Netns == sockets.HostNetns {
			t.Errorf("the namespace's listener is reported in the host namespace: %+v", s)
		}
	}
	if found == nil {
		t.Fatalf("no listener on %d in namespace %s", port, name)
	}
	if !hasOwner(*found, cmd.Process.Pid) {
		t.Errorf("owners %v, want pid %d", found.Owners, cmd.Process.Pid)
	}
	if found.Exposure() != sockets.ExposureAll {
		t.Errorf("exposure %s", found.Exposure())
	}
	var f []assess.Finding
	for i, v := range assess.Assess(snap, assess.SystemKnowledge()).Verdicts {
		if &snap.Sockets[i] == found {
			f = v.Findings
		}
	}
	named := false
	for _, x := range f {
		named = named || (x.Code == assess.CodeOtherNetns && strings.Contains(x.Text, "network namespace "+name))
	}
	if !named {
		t.Errorf("no finding about the namespace: %v", f)
	}
	if ss, err := exec.Command("ss", "-H", "-tln").Output(); err == nil && strings.Contains(string(ss), fmt.Sprintf(":%d ", port)) {
		t.Errorf("ss in the host namespace lists the port: the test proves nothing\n%s", ss)
	}

	cmd.Process.Kill()
	cmd.Wait()
	for _, s := range snapshot(t, src).Sockets {
		if s.LPort == port && s.Netns == name && s.IsListening() {
			t.Errorf("the listener outlived its process: %+v", s)
		}
	}
}

// TestFindKeepsToTheTestsNamespace: the tests' own lookups (find,
// listenerOn) see only this namespace, though another holds a listener on
// the very same 127.0.0.1:port (every namespace has a loopback of its own:
// the lab's and other tests' namespaces run beside these tests).
func TestFindKeepsToTheTestsNamespace(t *testing.T) {
	sockettest.NeedRoot(t, "to make a network namespace")
	for _, tool := range []string{"unshare", "ip"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed", tool)
		}
	}
	ours := listenTCP(t, "127.0.0.1:0")
	port := addrPort(t, ours.Addr()).Port()
	twin := startChild(t, exec.Command("unshare", "--net", "--", "sh", "-c", `ip link set lo up && exec "$0" -c "$1" 127.0.0.1 `+strconv.Itoa(int(port)),
		pythonPath(t), `import socket, sys
s = socket.socket(); s.bind((sys.argv[1], int(sys.argv[2]))); s.listen()
print(s.getsockname()[1], flush=True); sys.stdin.readline()`))
	if got := twin.port(t); got != port {
		t.Fatalf("the twin listens on %d, want %d", got, port)
	}
	snap := snapshot(t, NewLive())
	twins := 0
	for _, s := range snap.Sockets {
		if s.LPort == port && s.IsListening() && s.Netns != sockets.HostNetns {
			twins++
		}
	}
	if twins != 1 {
		t.Fatalf("the snapshot lists %d listeners on %d in other namespaces, want the twin", twins, port)
	}
	if s := listenerOn(t, snap, port); !hasOwner(s, os.Getpid()) {
		t.Errorf("listenerOn found %v, want ours", s.Owners)
	}
}
