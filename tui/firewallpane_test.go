package tui

import (
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/portwatch/portwatch/sockets/reach"
)

// Found replaying the lab at 80x24: its firewall step showed "all/filt…"
// and "all/clos…", the verdict cut, and the rule that decides it out of
// sight below the findings. At 80 columns EXPOSED keeps its word, and a
// short pane shows the deciding rule under the service.
func TestFirewallVerdictAndRuleAt80x24(t *testing.T) {
	for _, v := range []reach.Verdict{
		{Kind: reach.Filtered, Rule: "chain inet filter input: tcp dport 6379 drop"},
		{Kind: reach.Closed, Rule: "chain inet filter input: tcp dport 6379 reject with tcp reset"},
	} {
		// As in the lab: its namespace's label on every socket, and its
		// narration above the table.
		socks := fixtureSockets()
		for i := range socks {
			socks[i].Netns = "lab"
		}
		hs := newHarness(t, 80, 24, withFirewall(snapAt(t0, socks), portFirewall{6379: v}))
		cfg := hs.m.cfg
		cfg.Lab = &longScene{}
		hs.m = New(cfg)
		hs.send(tea.WindowSizeMsg{Width: 80, Height: 24})
		hs.run(hs.m.Init())
		hs.m.filter.set(":6379")
		hs.m.refreshRows()
		screen := hs.m.View()
		if !strings.Contains(screen, "all/"+string(v.Kind)+" ") {
			t.Errorf("%s: EXPOSED does not say all/%s:\n%s", v.Kind, v.Kind, screen)
		}
		if !strings.Contains(screen, "tcp dport 6379 drop") && !strings.Contains(screen, "tcp dport 6379 reject") {
			t.Errorf("%s: the deciding rule is not on the screen:\n%s", v.Kind, screen)
		}
		if !strings.Contains(screen, "PID") {
			t.Errorf("%s: PID was dropped to make room:\n%s", v.Kind, screen)
		}
	}
}
