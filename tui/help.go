package tui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/assess"
)

// helpView is the full help (?): the keys, then what the screen's words mean.
type helpView struct{}

func (helpView) binding(k *keyMap) *key.Binding { return &k.Help }
func (helpView) applies(*Model) bool            { return true }
func (helpView) follows() change                { return 0 }

func (helpView) text(m *Model, width int) string {
	return helpText(m.theme, m.help, m.keys, width, m.snap)
}

// helpText is the full help: the keys, then what the tabs and TCP states mean.
func helpText(th Theme, h help.Model, keys keyMap, width int, snap *sockets.Snapshot) string {
	var b strings.Builder
	b.WriteString(h.FullHelpView(keys.FullHelp()))
	b.WriteString("\n\n" + th.PaneTitle.Render("Tabs") + "\n")
	b.WriteString("  1 Listening    services this machine offers: TCP LISTEN and bound UDP sockets\n")
	b.WriteString("  2 Established  connections in progress, inbound (in) or outbound (out)\n")
	b.WriteString("  3 All states   every socket with its TCP state: watch connections open and close\n")
	b.WriteString("  Marks: > selected row, + new (5 s), - closed (5 s). Risk: INFO LOW MEDIUM HIGH.\n")
	b.WriteString("  Baseline (with --baseline, or after b): UNEXPECTED not in it, CHANGED another program or\n")
	b.WriteString("  user on its port, MISSING in it but not listening; they sort first. e lists the events.\n")
	b.WriteString("  RATE IN, RATE OUT, a listener's RATE (its connections): the kernel's byte\n")
	b.WriteString("  counters between two polls, no packet capture; blank for UDP. P: by program.\n")
	b.WriteString("\n" + th.PaneTitle.Render("Socket states") + "\n")
	for _, st := range append(append([]string{}, assess.TCPStates...), sockets.StateUnconnected) {
		for i, l := range wrap(assess.StateHelp(sockets.TCP, st), max(width-16, 20)) {
			if i == 0 {
				fmt.Fprintf(&b, "  %-12s %s\n", st, l)
			} else {
				fmt.Fprintf(&b, "  %-12s %s\n", "", l)
			}
		}
	}
	if snap != nil {
		fmt.Fprintf(&b, "\nSockets are listed through %s.\n", snap.Method)
	}
	return b.String()
}
