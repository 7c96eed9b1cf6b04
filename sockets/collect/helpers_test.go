//go:build linux

package collect

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/clean"
)

// snapshot takes a live snapshot or fails the test.
func snapshot(t *testing.T, src *Live) *sockets.Snapshot {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	snap, err := src.Snapshot(ctx)
	if err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	return snap
}

// find returns the sockets of the snapshot's own network namespace (the
// test's) bound to this local endpoint (and, when remote is valid,
// connected to that remote endpoint). Every other namespace has a
// 127.0.0.1 of its own, where other programs use the same port numbers.
func find(snap *sockets.Snapshot, proto sockets.Proto, local, remote netip.AddrPort) []sockets.Socket {
	var out []sockets.Socket
	for _, s := range snap.Sockets {
		if s.Proto != proto || s.LPort != local.Port() || s.Local != local.Addr().Unmap() {
			continue
		}
		if s.Netns != sockets.HostNetns && s.Netns != "" {
			continue
		}
		if remote.IsValid() && (s.RPort != remote.Port() || s.Remote != remote.Addr().Unmap()) {
			continue
		}
		out = append(out, s)
	}
	return out
}

// findOne is find that expects exactly one socket.
func findOne(t *testing.T, snap *sockets.Snapshot, proto sockets.Proto, local, remote netip.AddrPort) sockets.Socket {
	t.Helper()
	got := find(snap, proto, local, remote)
	if len(got) != 1 {
		t.Fatalf("want 1 %s socket %v -> %v, found %d", proto, local, remote, len(got))
	}
	return got[0]
}

func addrPort(t *testing.T, a net.Addr) netip.AddrPort {
	t.Helper()
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		t.Fatalf("parse %v: %v", a, err)
	}
	return ap
}

// listenTCP listens on addr; "tcp4" keeps Go from turning 0.0.0.0 into a
// dual-stack [::] listener.
func listenTCP(t *testing.T, addr string) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp4", addr)
	if err != nil {
		t.Skipf("cannot listen on %s here: %v", addr, err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

func hasOwner(s sockets.Socket, pid int) bool {
	for _, p := range s.Owners {
		if int(p.PID) == pid {
			return true
		}
	}
	return false
}

func selfName(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("/proc/self/comm")
	if err != nil {
		t.Fatal(err)
	}
	return string(b[:len(b)-1])
}

// pythonPath is the real python3 interpreter, not a shim in front of it (a
// pyenv shim is a shell script in a folder only root may read), or the
// test is skipped.
func pythonPath(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("python3", "-c", "import sys; print(sys.executable)").Output()
	if err != nil || len(out) < 2 {
		t.Skipf("python3 is not available: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// child is a helper process a test started and talks to by lines: it says
// what it did on its standard output and waits for orders on its input.
type child struct {
	cmd   *exec.Cmd
	in    io.WriteCloser
	lines chan string
}

// startChild starts cmd; it is killed and reaped when the test ends.
func startChild(t *testing.T, cmd *exec.Cmd) *child {
	t.Helper()
	c := &child{cmd: cmd, lines: make(chan string, 16)}
	var err error
	if c.in, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if cmd.Stderr == nil {
		cmd.Stderr = os.Stderr
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %v: %v", cmd.Args, err)
	}
	t.Cleanup(func() { c.stop() })
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			c.lines <- sc.Text()
		}
		close(c.lines)
	}()
	return c
}

// pid is the child's process id.
func (c *child) pid() int { return c.cmd.Process.Pid }

// line waits up to 10 s for the child's next line.
func (c *child) line(t *testing.T) string {
	t.Helper()
	select {
	case l, ok := <-c.lines:
		if !ok {
			t.Fatalf("%v ended without saying more", c.cmd.Args[0])
		}
		return l
	case <-time.After(10 * time.Second):
		t.Fatalf("%v said nothing for 10 s", c.cmd.Args[0])
	}
	return ""
}

// port reads a line holding a port number.
func (c *child) port(t *testing.T) uint16 {
	t.Helper()
	l := c.line(t)
	p, err := strconv.ParseUint(strings.TrimSpace(l), 10, 16)
	if err != nil {
		t.Fatalf("want a port from the child, got %q", l)
	}
	return uint16(p)
}

// say writes a line to the child.
func (c *child) say(t *testing.T, s string) {
	t.Helper()
	if _, err := io.WriteString(c.in, s+"\n"); err != nil {
		t.Fatalf("telling the child %q: %v", s, err)
	}
}

// stop kills the child and reaps it: its sockets are closed on return.
func (c *child) stop() {
	c.cmd.Process.Kill()
	c.cmd.Wait()
}

// listenerOn is the listener on 127.0.0.1:port in the snapshot's own
// namespace, or a failed test.
func listenerOn(t *testing.T, snap *sockets.Snapshot, port uint16) sockets.Socket {
	t.Helper()
	return findOne(t, snap, sockets.TCP, netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port), netip.AddrPort{})
}

// assertClean fails the test if text read from the machine could act on a
// terminal or is not valid UTF-8: a C0 control, DEL, a C1 control (the
// 8-bit CSI among them), a bidi override, or a byte that is not UTF-8.
func assertClean(t *testing.T, what, s string) {
	t.Helper()
	if !utf8.ValidString(s) {
		t.Errorf("%s %q is not valid UTF-8", what, s)
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f) || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) {
			t.Errorf("%s %q holds the control %U", what, s, r)
			break
		}
	}
	if clean.Text(s) != s {
		t.Errorf("%s %q is not as clean.Text leaves it", what, s)
	}
}
