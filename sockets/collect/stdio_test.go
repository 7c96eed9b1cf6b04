//go:build linux

package collect

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/pkgproof"
	"github.com/portwatch/portwatch/sockets/sockettest"
)

// A shell whose descriptors 0-2 are a connection (bash's /dev/tcp, then
// exec) is read with those descriptors on its Process, and its executable
// proven once: a second poll reads and proves nothing again.
func TestShellOnAConnectionHasItsStdioAndIdentity(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to read every descriptor")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	cmd, conn := sockettest.ReverseShell(t, ln)
	// Wait, bounded, for the exec: its descriptor 2 is then the socket.
	deadline := time.Now().Add(10 * time.Second)
	for {
		if target, _ := os.Readlink(fmt.Sprintf("/proc/%d/fd/2", cmd.Process.Pid)); len(target) > 7 && target[:7] == "socket:" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the shell's stderr never became the connection")
		}
		time.Sleep(10 * time.Millisecond)
	}
	src := NewLive()
	local := conn.RemoteAddr().(*net.TCPAddr).AddrPort()
	remote := netip.MustParseAddrPort(fmt.Sprintf("127.0.0.1:%d", port))
	s := findOne(t, snapshot(t, src), sockets.TCP, local, remote)
	p := s.Process()
	if p == nil || p.PID != int32(cmd.Process.Pid) {
		t.Fatalf("owner of the shell's connection: %+v", p)
	}
	if p.Stdio != [3]uint64{s.Inode, s.Inode, s.Inode} || len(p.StdioOn(s.Inode)) != 3 {
		t.Errorf("stdio %v, the connection is %d", p.Stdio, s.Inode)
	}
	if p.Identity == nil || p.Identity.Reason == "" {
		t.Errorf("no identity: %+v", p.Identity)
	}
	checks, _ := pkgproof.System().Stats()
	again := findOne(t, snapshot(t, src), sockets.TCP, local, remote)
	if again.Process() != p {
		t.Errorf("an unchanged process was read again")
	}
	if n, _ := pkgproof.System().Stats(); n != checks {
		t.Errorf("the second poll proved %d executables again", n-checks)
	}
}
