//go:build linux

package collect

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/portwatch/portwatch/sockets"
	gnet "github.com/shirou/gopsutil/v3/net"
)

// TestAgreesWithGopsutil checks portwatch against an independent reader:
// every socket gopsutil/v3 finds in this process, portwatch finds with this
// pid, the same addresses and the same state. (gopsutil merges rows with
// equal addresses and state, so portwatch's are merged the same way here.)
func TestAgreesWithGopsutil(t *testing.T) {
	openVariety(t)
	pid := int32(os.Getpid())
	var diff []string
	for attempt := 0; attempt < 3; attempt++ {
		rows, err := gnet.ConnectionsPidWithoutUids("inet", pid)
		if err != nil {
			t.Fatalf("gopsutil: %v", err)
		}
		var theirs []string
		for _, r := range rows {
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
		var ours []string
		for _, s := range snapshot(t, NewLive()).Sockets {
			if s.Netns != sockets.HostNetns || !hasOwner(s, int(pid)) {
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
		diff = symmetricDiff(ours, theirs)
		if len(diff) == 0 {
			if len(ours) < 5 {
				t.Errorf("only %d sockets compared", len(ours))
			}
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Errorf("portwatch (fast only) and gopsutil (reference only) differ:\n%s", strings.Join(diff, "\n"))
}

func unmapString(ip string) string {
	if ip == "" {
		return ""
	}
	return strings.TrimPrefix(ip, "::ffff:")
}
