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
	return helpText(*m.theme, *m.help, *m.keys, width, m.snap)
}

// helpText is the full help: the keys (a lab's among them), then what the
// tabs, marks, columns and TCP states mean, each wrapped to the width.
func helpText(th Theme, h help.Model, keys keyMap, width int, snap *sockets.Snapshot) string {
	w := max(width, 20)
	var b strings.Builder
	b.WriteString(h.FullHelpView(keys.FullHelp()) + "\n")
	section := func(s string) { b.WriteString("\n" + th.PaneTitle.Render(s) + "\n") }
	para := func(s string) {
		for _, l := range hanging("  ", "  ", s, w) {
			b.WriteString(l + "\n")
		}
	}
	item := func(label, text string) {
		for _, l := range hanging(fmt.Sprintf("  %-14s", label), strings.Repeat(" ", 16), text, w) {
			b.WriteString(l + "\n")
		}
	}
	cmd := func(s string) {
		for _, l := range packItems(strings.Split(s, " · "), strings.Repeat(" ", 16)+"$ ", "$ ", "  ", w) {
			b.WriteString(th.Muted.Render(l) + "\n")
		}
	}
	section("Tabs")
	item("1 Listening", "services this machine offers: TCP LISTEN and bound UDP sockets")
	cmd(analystCommands[0][1])
	item("2 Established", "connections in progress, inbound (in) or outbound (out)")
	cmd(analystCommands[1][1])
	item("3 All states", "every socket with its TCP state: watch connections open and close")
	cmd(analystCommands[2][1])
	if keys.LabNext.Enabled() {
		item("Lab", "n or space: the next step · b: a step back · L: what the step shows, explained · q: quit, and the lab cleans up everything it made")
	}
	section("Words on the screen")
	para("Marks: > selected row, + new (5 s), - closed (5 s). Risk: INFO LOW MEDIUM HIGH.")
	para("SERVICE: the registry's name, with the exam's where it differs: domain (DNS), ms-wbt-server (RDP).")
	para("EXPOSED: where a listener can be reached from, and after the slash what the firewall does to a new connection from outside (as root): all/open (nmap says open), all/restr (only some sources admitted), all/filtered (dropped: nmap says filtered), all/closed (refused with a reset: nmap says closed), all/? (unknown: the details say why); loopback (this machine only), address (one network).")
	cmd(analystCommands[3][1])
	para("Header: N reachable (N HIGH) are the listeners outside connections can reach, as far as portwatch can tell: not on loopback, and admitted by the firewall (or, where none was read, by their address); unreachable: filtered or closed by it; unknown: it cannot say. Then the server profile (R: in full). Warnings (!) have lines of their own: a SCAN seen in the kernel's counters, hidden owners, the firewall unread.")
	para("Baseline (with --baseline, or after b): UNEXPECTED not in it, CHANGED another program or user on its port, MISSING in it but not listening; they sort first. e lists the events.")
	para("RATE IN, RATE OUT, a listener's RATE (its connections): the kernel's byte counters between two polls, no packet capture; blank for UDP. P: by program.")
	section("Socket states")
	for _, st := range append(append([]string{}, assess.TCPStates...), sockets.StateUnconnected) {
		for i, l := range wrap(assess.StateHelp(sockets.TCP, st), max(w-16, 20)) {
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
