//go:build linux

package collect

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/portwatch/portwatch/sockets"
	gnet "github.com/shirou/gopsutil/v3/net"
)

// TestAgreesWithGopsutil checks portwatch against an independent reader:
// of the sockets this process made for the test (held by its pid, on its
// own ports), gopsutil/v3 and portwatch list the same addresses and
// states. (gopsutil merges rows with equal addresses and state, so
// portwatch's are merged the same way here.)
func TestAgreesWithGopsutil(t *testing.T) {
	own := openOwnSockets(t)
	ports := own.ports()
	pid := int32(os.Getpid())
	var ours, diff []string
	// Both read the kernel's tables in pieces: a read torn by another
	// program's sockets can list one of ours twice (merged here) or miss
	// it, and is taken again (see disagreement).
	for attempt := 0; attempt < 5; attempt++ {
		rows, err := gnet.ConnectionsPidWithoutUids("inet", pid)
		if err != nil {
			t.Fatalf("gopsutil: %v", err)
		}
		var theirs []string
		for _, r := range rows {
			if !ports[uint16(r.Laddr.Port)] {
				continue
			}
			proto := "tcp"
			if r.Type == syscall.SOCK_DGRAM {
				proto = "udp"
			}
			state := r.Status
			if proto == "udp" {
				state = "-"
			}
			theirs = append(theirs, fmt.Sprintf("%s %s:%d %s:%d %s", proto, unmapString(r.Laddr.IP), r.Laddr.Port, unmapString(r.Raddr.IP), r.Raddr.Port, state))
		}
		ours = nil
		for _, s := range snapshot(t, NewLive()).Sockets {
			if s.Netns != sockets.HostNetns || !hasOwner(s, int(pid)) || !ports[s.LPort] {
				continue
			}
			state := s.State
			if s.Proto == sockets.UDP {
				state = "-"
			}
			ours = append(ours, fmt.Sprintf("%s %s:%d %s:%d %s", s.Proto, s.Local, s.LPort, s.Remote, s.RPort, state))
		}
		slices.Sort(theirs)
		slices.Sort(ours)
		theirs, ours = slices.Compact(theirs), slices.Compact(ours)
		if diff = symmetricDiff(ours, theirs); len(diff) == 0 {
			break
		}
	}
	if len(diff) > 0 {
		t.Errorf("portwatch (fast only) and gopsutil (reference only) differ:\n%s", strings.Join(diff, "\n"))
	}
	// Every socket the test holds in a state both list, at least: the
	// listeners, connections and UDP sockets.
	want := 0
	for _, x := range own.list {
		if x.inode != 0 && !x.maybe {
			want++
		}
	}
	if len(ours) < want {
		t.Errorf("only %d of the test's %d sockets compared:\n%s", len(ours), want, strings.Join(ours, "\n"))
	}
}

func unmapString(ip string) string {
	if ip == "" {
		return ""
	}
	return strings.TrimPrefix(ip, "::ffff:")
}
