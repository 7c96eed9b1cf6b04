//go:build linux

package collect

import (
	"encoding/binary"
	"net"
	"os"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// inetDiagMark is the INET_DIAG_MARK attribute, which the kernel adds to
// every socket's record for a reader with CAP_NET_ADMIN.
const inetDiagMark = 15

// TestDiagSocketLeavesOutNetAdminAttributes: a socket with a mark is dumped
// with INET_DIAG_MARK through a socket opened with CAP_NET_ADMIN, and
// without it through the one portwatch dumps with, which still lists it
// with its counters.
func TestDiagSocketLeavesOutNetAdminAttributes(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: only CAP_NET_ADMIN may set SO_MARK, and the attribute is for it")
	}
	if !netlinkWorks() {
		t.Skip("sock_diag is not available here")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	raw, err := ln.(*net.TCPListener).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var serr error
	raw.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, unix.SO_MARK, 0x5a) })
	if serr != nil {
		t.Skipf("SO_MARK: %v", serr)
	}
	port := uint16(ln.Addr().(*net.TCPAddr).Port)
	attrs := func(open func() (int, error)) map[uint16]bool {
		t.Helper()
		fd, err := open()
		if err != nil {
			t.Fatal(err)
		}
		defer unix.Close(fd)
		return diagAttributesOf(t, fd, port)
	}
	if got := attrs(plainDiagSocket); !got[inetDiagMark] {
		t.Skipf("the kernel did not mark the listener's record for a reader with CAP_NET_ADMIN (attributes %v): nothing to compare", got)
	}
	got := attrs(diagSocket)
	if got[inetDiagMark] {
		t.Errorf("portwatch's dump socket gets INET_DIAG_MARK (attributes %v): it was opened with CAP_NET_ADMIN", got)
	}
	if !got[inetDiagInfo] {
		t.Errorf("portwatch's dump socket lost the counters (attributes %v)", got)
	}
	// The calling thread keeps its capabilities.
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var caps [2]unix.CapUserData
	if err := unix.Capget(&hdr, &caps[0]); err == nil && caps[0].Effective&(1<<unix.CAP_NET_ADMIN) == 0 {
		t.Error("a thread lost CAP_NET_ADMIN")
	}
}

// diagAttributesOf dumps TCP with the counters through fd and says which
// attributes the record of the listener on 127.0.0.1:port carries.
func diagAttributesOf(t *testing.T, fd int, port uint16) map[uint16]bool {
	t.Helper()
	q := diagQuery{typ: tcpDiagGetSock, proto: unix.IPPROTO_TCP, ext: extInfo, combined: true}
	if err := unix.Sendto(fd, q.request(7), 0, nil); err != nil { // as dump sends it
		t.Fatal(err)
	}
	ne := binary.NativeEndian
	buf := make([]byte, netlinkBufferSize)
	var found map[uint16]bool
	for {
		n, err := recvTrunc(fd, buf)
		if err != nil {
			t.Fatal(err)
		}
		for b := buf[:min(n, len(buf))]; len(b) >= nlmsgHeaderLen; {
			l := int(ne.Uint32(b))
			if l < nlmsgHeaderLen || l > len(b) {
				t.Fatal("a malformed message")
			}
			switch ne.Uint16(b[4:]) {
			case unix.NLMSG_DONE:
				if found == nil {
					t.Fatalf("the dump did not list 127.0.0.1:%d", port)
				}
				return found
			case unix.NLMSG_ERROR:
				t.Fatal("the dump failed")
			}
			m := b[nlmsgHeaderLen:l]
			if len(m) >= inetDiagMsgLen && m[1] == 10 && // TCP_LISTEN
				binary.BigEndian.Uint16(m[4:]) == port {
				found = map[uint16]bool{}
				for a := m[inetDiagMsgLen:]; len(a) >= 4; {
					alen := int(ne.Uint16(a))
					if alen < 4 || alen > len(a) {
						break
					}
					found[ne.Uint16(a[2:])] = true
					a = a[min((alen+3)&^3, len(a)):]
				}
			}
			b = b[min((l+3)&^3, len(b)):]
		}
	}
}
