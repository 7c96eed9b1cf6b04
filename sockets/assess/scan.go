package assess

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/portwatch/portwatch/sockets"
)

// ScanThreshold is how many of our listening ports one remote address must
// touch within ScanWindow to be called a scan.
const (
	ScanThreshold = 8
	ScanWindow    = time.Minute
)

// remoteKey is a remote address within a namespace.
type remoteKey struct {
	netns uint64
	addr  netip.Addr
}

// scanMemory remembers which of our listening ports each remote address
// reached, and when: a connect scan's connections last milliseconds, so a
// poll sees a few of them at a time, and the window adds them up.
type scanMemory map[remoteKey]map[uint16]time.Time

// observe records the inbound sockets of a snapshot taken at "at", forgets
// what is older than the window, and returns the remote addresses that
// reached ScanThreshold ports or more, with how many.
func (m scanMemory) observe(snap *sockets.Snapshot, at time.Time) map[remoteKey]int {
	for i := range snap.Sockets {
		s := &snap.Sockets[i]
		if s.Direction != sockets.Inbound || s.Remote.IsUnspecified() || !s.Remote.IsValid() {
			continue
		}
		k := remoteKey{s.NetnsInode, s.Remote}
		if m[k] == nil {
			m[k] = map[uint16]time.Time{}
		}
		m[k][s.LPort] = at
	}
	scanners := map[remoteKey]int{}
	for k, ports := range m {
		for p, seen := range ports {
			if at.Sub(seen) > ScanWindow {
				delete(ports, p)
			}
		}
		if len(ports) == 0 {
			delete(m, k)
		} else if len(ports) >= ScanThreshold {
			scanners[k] = len(ports)
		}
	}
	return scanners
}

// scanned is how many of our ports the socket's remote address touched, when
// that makes it a scanner; 0 otherwise.
func (c *counts) scanned(s *sockets.Socket) int {
	if len(c.scanners) == 0 || s.Direction != sockets.Inbound {
		return 0
	}
	return c.scanners[remoteKey{s.NetnsInode, s.Remote}]
}

func scanFinding(s *sockets.Socket, n int, f *findings) {
	f.list = append(f.list, Finding{Severity: RiskMedium, Code: CodePortScan, Text: f.t.scanText(s.Remote, n)})
}

// scanSentence is what a scanner's connection's finding says.
func scanSentence(remote netip.Addr, n int) string {
	return fmt.Sprintf("%s reached %d of this machine's listening ports within %s: that is what a port scan looks like from the inside. Find out who it is; a scan of closed or filtered ports leaves no socket to see, so check the firewall's log too.",
		remote, n, durationWords(ScanWindow))
}

func durationWords(d time.Duration) string {
	if d == time.Minute {
		return "a minute"
	}
	return fmt.Sprint(d)
}
