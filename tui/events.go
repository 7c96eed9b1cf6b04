package tui

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	"github.com/portwatch/portwatch/sockets/assess"
	"github.com/portwatch/portwatch/sockets/events"
)

// eventsView is the events since start (e), newest first.
type eventsView struct{}

func (eventsView) binding(k *keyMap) *key.Binding { return &k.Events }
func (eventsView) applies(*Model) bool            { return true }
func (eventsView) follows() change                { return newEvents | scansSeen }

func (eventsView) text(m *Model, width int) string {
	var scans []assess.NetScan
	if m.assessment != nil {
		scans = m.assessment.Scans
	}
	return eventsText(*m.theme, m.events, scans, width, m.now)
}

// eventsText is the events pane: the scans the kernel's counters show now
// (they leave no socket, so no event), then what happened since start,
// newest first, each with its time, kind, socket, process and what it
// means.
func eventsText(th Theme, evs []events.Event, scans []assess.NetScan, width int, now time.Time) string {
	var b strings.Builder
	b.WriteString(th.PaneTitle.Render("Events") + th.Muted.Render(fmt.Sprintf("  newest first, the last %d kept · e or esc: back", maxEvents)) + "\n")
	if len(scans) > 0 {
		b.WriteString("\n" + th.PaneTitle.Render("Scans seen in the kernel's counters") + th.Muted.Render(fmt.Sprintf("  shown for %s after the last probe", shortDuration(assess.ScanHold))) + "\n")
		for _, s := range scans {
			head := fmt.Sprintf("%s %-6s %s %s, last probe %s ago", s.First.Format("15:04:05"), s.Risk, s.Code, s.Netns, shortDuration(now.Sub(s.Last)))
			b.WriteString(th.Risk(s.Risk).Render(fit(head, max(width, 1))) + "\n")
			for _, l := range hanging("           ", "           ", s.Text, width) {
				b.WriteString(l + "\n")
			}
		}
		b.WriteString("\n")
	}
	if len(evs) == 0 {
		b.WriteString("\n  Nothing has happened since portwatch started: no listener opened or closed, no new finding.\n")
		return b.String()
	}
	for _, e := range evs {
		who := ""
		if e.PID != 0 {
			who = fmt.Sprintf(" · %s (pid %d) as %s", e.Process, e.PID, e.User)
		}
		head := fmt.Sprintf("%s %-6s %s %s%s", e.Time.Format("15:04:05"), e.Risk, e.Kind, e.Where(), who)
		b.WriteString(th.Risk(e.Risk).Render(fit(head, max(width, 1))) + "\n")
		for _, l := range hanging("           ", "           ", e.Text, width) {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}
