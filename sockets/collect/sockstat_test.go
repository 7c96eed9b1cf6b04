//go:build linux

package collect

import (
	"net"
	"testing"
)

// The kernel's counts, as this kernel writes them, and text that is not:
// only TCP and UDP in use and in TIME_WAIT count, and nothing unbounded.
func TestParseSockstat(t *testing.T) {
	four := "sockets: used 412\nTCP: inuse 200 orphan 3 tw 50 alloc 260 mem 40\nUDP: inuse 7 mem 2\nUDPLITE: inuse 9\nRAW: inuse 1\nFRAG: inuse 0 memory 0\n"
	six := "TCP6: inuse 20\nUDP6: inuse 3\nUDPLITE6: inuse 0\nRAW6: inuse 0\nFRAG6: inuse 0 memory 0\n"
	if got := parseSockstat(four) + parseSockstat(six); got != 280 {
		t.Errorf("counted %d, want 200+50+7+20+3", got)
	}
	for _, bad := range []string{"", "TCP: inuse", "TCP: inuse -5 tw x", "TCP: inuse 99999999999999999999", "TCP inuse 5", "\x00TCP: inuse 5\x1b[2J"} {
		if got := parseSockstat(bad); got != 0 {
			t.Errorf("%q counted %d, want 0", bad, got)
		}
	}
	if got := parseSockstat("TCP: inuse 4194304 tw 4194304\nUDP: inuse 4194304"); got != maxSizeHint {
		t.Errorf("counted %d, want at most %d", got, maxSizeHint)
	}
}

// The hint counts this test's own 300 listeners (the machine's other
// sockets are no business of a test: it asks for at least those). It
// makes no Live, so it adds nothing to this process's descriptors, which
// other tests read.
func TestSizeHintCountsTheTestsSockets(t *testing.T) {
	const mine = 300
	for range mine {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Skip("no loopback:", err)
		}
		defer ln.Close()
	}
	if hint := sizeHint("/proc"); hint < mine {
		t.Fatalf("size hint %d with %d listeners of the test's open", hint, mine)
	}
}
