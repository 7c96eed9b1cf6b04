package tui

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/reach"
)

// withPublished is snap with Docker's publication of 8080 to a container's port 80 that no
// socket backs (Docker without its userland proxy), past ufw's deny: the rules as Docker and
// ufw write them.
func withPublished(snap *sockets.Snapshot) *sockets.Snapshot {
	out := *withFirewall(snap, portFirewall{})
	out.Published = []sockets.Published{{Netns: sockets.HostNetns, Published: reach.Published{
		Proto: "tcp", Host: netip.IPv4Unspecified(), HostPort: 8080, To: netip.MustParseAddrPort("172.17.0.2:80"),
		Rule:    `chain ip nat DOCKER: iifname != "docker0" tcp dport 8080 dnat to 172.17.0.2:80 # handle 12`,
		Verdict: reach.Verdict{Kind: reach.Open, Rule: `chain ip filter DOCKER: ip daddr 172.17.0.2 iifname != "docker0" oifname "docker0" tcp dport 80 accept # handle 20`, Frontend: "docker"},
		Input:   reach.Verdict{Kind: reach.Filtered, Rule: "chain ip filter ufw-user-input: tcp dport 8080 drop # handle 31", Frontend: "ufw", Source: "ufw deny 8080/tcp"},
	}}}
	return &out
}

// A published port is a row of its own in the Listening tab, socket or not: state PUBLISHED,
// its verdict in EXPOSED, its finding's risk, found by the filter, counted in the header, and
// its details say what publishes it (docker run -p), where it goes, the rule and the input
// path's deny it bypasses, with the finding's remedy.
func TestPublishedRow(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {120, 40}} {
		w, h := size[0], size[1]
		for _, sc := range []struct {
			name string
			keys []string
		}{{"published_row", nil}, {"published_detail", []string{"enter"}}} {
			t.Run(fmt.Sprintf("%s_%dx%d", sc.name, w, h), func(t *testing.T) {
				hs := newHarness(t, w, h, withPublished(snapAt(t0, fixtureSockets())))
				hs.run(hs.m.Init())
				hs.clock.Advance(42 * time.Second)
				hs.send(tickMsg{})
				hs.m.filter.set(":8080")
				hs.m.refreshRows()
				rows := hs.rows()
				if len(rows) != 1 || rows[0].Socket.State != sockets.StatePublished || rows[0].Published == nil {
					t.Fatalf("the filter :8080 lists %d rows, want the published port alone", len(rows))
				}
				hs.keys(sc.keys...)
				screen := hs.m.View()
				plain := ansi.Strip(screen)
				for _, want := range []string{"PUBLISHED", "HIGH"} {
					if sc.name == "published_row" && !strings.Contains(plain, want) {
						t.Errorf("%q is not on the screen:\n%s", want, plain)
					}
				}
				if sc.name == "published_detail" {
					text := ansi.Strip(detailView{}.text(&hs.m, w))
					for _, want := range []string{"docker run -p 0.0.0.0:8080:80", "sent on to 172.17.0.2:80", "DOCKER-USER",
						"input path, the DNAT aside: filtered", "ufw-user-input: tcp dport 8080 drop", "as ufw says it: ufw deny 8080/tcp", "PUBLISHED: Not a socket"} {
						if !strings.Contains(strings.Join(strings.Fields(text), " "), want) {
							t.Errorf("%q is not in the details:\n%s", want, text)
						}
					}
				}
				golden.RequireEqual(t, []byte(screen))
			})
		}
	}
	hs := newHarness(t, 120, 40, withPublished(snapAt(t0, fixtureSockets())))
	hs.run(hs.m.Init())
	// K on it says there is no process, and why: a rule, not a socket the kernel holds.
	hs.m.filter.set(":8080")
	hs.m.refreshRows()
	hs.keys("K")
	if st := ansi.Strip(hs.m.View()); !strings.Contains(st, "a DNAT rule publishes this port") {
		t.Errorf("K on a published port does not say a DNAT rule publishes it:\n%s", st)
	}
	without := newHarness(t, 120, 40, withFirewall(snapAt(t0, fixtureSockets()), portFirewall{}))
	without.run(without.m.Init())
	if got, was := hs.m.surface.outside, without.m.surface.outside; got != was+1 {
		t.Errorf("the header counts %d listeners from outside, %d without the published port: want one more", got, was)
	}
}
