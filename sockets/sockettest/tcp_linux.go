//go:build linux

package sockettest

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Unacknowledged is how many bytes written on c its peer has not yet
// acknowledged (SIOCOUTQ: sent but unacknowledged, and not yet sent).
func Unacknowledged(c *net.TCPConn) (int, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return 0, err
	}
	var n int
	var ioErr error
	if err := rc.Control(func(fd uintptr) { n, ioErr = unix.IoctlGetInt(int(fd), unix.SIOCOUTQ) }); err != nil {
		return 0, err
	}
	return n, ioErr
}

// WaitDelivered waits, at most timeout, until the peer of every conn has
// acknowledged everything written on it: the wait for "the last ACKs"
// before a test compares byte counters with what it sent.
func WaitDelivered(t testing.TB, timeout time.Duration, conns ...*net.TCPConn) {
	t.Helper()
	WaitFor(t, timeout, "every byte written acknowledged", func() (bool, string) {
		var left []string
		for _, c := range conns {
			n, err := Unacknowledged(c)
			if err != nil {
				t.Fatalf("SIOCOUTQ on %s: %v", c.LocalAddr(), err)
			}
			if n > 0 {
				left = append(left, fmt.Sprintf("%s: %d bytes", c.LocalAddr(), n))
			}
		}
		return len(left) == 0, strings.Join(left, ", ")
	})
}

// tcpStates are the kernel's TCP state numbers (include/net/tcp_states.h)
// in the words portwatch and /proc use.
var tcpStates = map[string]string{
	"01": "ESTABLISHED", "02": "SYN_SENT", "03": "SYN_RECV", "04": "FIN_WAIT1", "05": "FIN_WAIT2",
	"06": "TIME_WAIT", "07": "CLOSE", "08": "CLOSE_WAIT", "09": "LAST_ACK", "0A": "LISTEN", "0B": "CLOSING",
}

// State is the TCP state of the socket from local to remote in this
// process's network namespace, as /proc/net/tcp and tcp6 say it
// ("ESTABLISHED", "FIN_WAIT2", "TIME_WAIT"...), or "" when there is none.
// It reads the kernel's own table, not portwatch's code, so a test can wait
// for a state before it asks portwatch.
func State(t testing.TB, local, remote netip.AddrPort) string {
	t.Helper()
	for _, file := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		f, err := os.Open(file)
		if err != nil {
			if file == "/proc/net/tcp6" {
				continue // no IPv6 here
			}
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			// "  0: 0100007F:1F90 0100007F:C350 01 ..."
			fields := strings.Fields(sc.Text())
			if len(fields) < 4 {
				continue
			}
			l, lok := procEndpoint(fields[1])
			r, rok := procEndpoint(fields[2])
			if lok && rok && l == local && r == remote {
				f.Close()
				return tcpStates[fields[3]]
			}
		}
		f.Close()
	}
	return ""
}

// WaitState waits, at most timeout, until the socket from local to remote
// is in state ("" for gone).
func WaitState(t testing.TB, timeout time.Duration, local, remote netip.AddrPort, state string) {
	t.Helper()
	WaitFor(t, timeout, fmt.Sprintf("%s -> %s in state %q", local, remote, state), func() (bool, string) {
		got := State(t, local, remote)
		return got == state, fmt.Sprintf("%q", got)
	})
}

// procEndpoint parses /proc/net/tcp's "0100007F:1F90": the address as the
// kernel stores it, in 32-bit words of host (little-endian) byte order,
// then the port in hexadecimal. An IPv4-mapped address is unmapped.
func procEndpoint(s string) (netip.AddrPort, bool) {
	h, p, ok := strings.Cut(s, ":")
	port, err := strconv.ParseUint(p, 16, 16)
	raw, herr := hex.DecodeString(h)
	if !ok || err != nil || herr != nil || (len(raw) != 4 && len(raw) != 16) {
		return netip.AddrPort{}, false
	}
	for i := 0; i < len(raw); i += 4 {
		raw[i], raw[i+1], raw[i+2], raw[i+3] = raw[i+3], raw[i+2], raw[i+1], raw[i]
	}
	addr, _ := netip.AddrFromSlice(raw)
	return netip.AddrPortFrom(addr.Unmap(), uint16(port)), true
}
