package tui

import (
	"fmt"
	"strings"
	"time"

	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/assess"
	"github.com/portwatch/portwatch/sockets/reach"
)

// maxWarnLines bounds the header's warning lines: at 60 columns every
// warning at once still fits in them.
const maxWarnLines = 3

// headerLines is the header: who and when on the first line; the attack
// surface and the server profile (cut to fit: R has it whole) on the
// second; then, when there is any, the warnings, wrapped onto lines of
// their own so that no width cuts them.
func (m *Model) headerLines() []string {
	lines := []string{m.headerTop(), m.headerJudgement()}
	for _, l := range packWarnings(m.warnings(), max(m.width, 1)) {
		lines = append(lines, m.theme.Warning.Render(fit(l, m.width)))
	}
	return lines
}

// headerHeight is len(headerLines()) without drawing them: every message
// asks it (Update sizes the content again when it changed).
func (m *Model) headerHeight() int {
	return 2 + len(packWarnings(m.warnings(), max(m.width, 1)))
}

// packWarnings lays the warnings out on lines of width w (packItems), at
// most maxWarnLines: the last says more follow.
func packWarnings(warn []string, w int) []string {
	lines := packItems(warn, "! ", "! ", "  ", w)
	if len(lines) > maxWarnLines {
		lines = lines[:maxWarnLines]
		lines[maxWarnLines-1] = fit(lines[maxWarnLines-1]+" …", w)
	}
	return lines
}

// headerTop is the host, the last poll's time and what the monitor may
// see and do. The timing gives way first on a narrow terminal.
func (m *Model) headerTop() string {
	left := m.theme.Title.Render("portwatch") + " " + m.cfg.Hostname
	var right []string
	updated := ""
	switch {
	case m.snap == nil:
		right = append(right, "reading sockets…")
	case m.snap.Root:
		updated = fmt.Sprintf("updated %s in %s", m.lastGood.Format("15:04:05"), roundDuration(m.snap.Took))
		right = append(right, "root")
	default:
		updated = fmt.Sprintf("updated %s in %s", m.lastGood.Format("15:04:05"), roundDuration(m.snap.Took))
		right = append(right, "not root")
	}
	if m.cfg.ReadOnly {
		right = append(right, "read-only")
	}
	if m.paused {
		right = append(right, m.theme.Warning.Render("PAUSED"))
	}
	for _, u := range []string{updated, m.lastGood.Format("15:04:05"), ""} {
		parts := right
		if u != "" && m.snap != nil {
			parts = append([]string{u}, right...)
		}
		line := strings.Join(parts, " · ")
		if widthOf(left)+1+widthOf(line) <= m.width || u == "" {
			return spread(left, line, m.width)
		}
	}
	return ""
}

// headerJudgement is the attack surface, counted apart by what the
// firewall says, and the server profile in one line.
func (m *Model) headerJudgement() string {
	a := m.assessment
	if a == nil { // the first line says "reading sockets…"
		return fit("", m.width)
	}
	c := m.surface
	s := fmt.Sprintf("%d reachable", c.reachable)
	if c.high > 0 {
		s += fmt.Sprintf(" (%d HIGH)", c.high)
	}
	if a.Firewalled || c.unreachable > 0 {
		s += fmt.Sprintf(" · %d unreachable", c.unreachable)
	}
	if a.Firewalled || c.unknown > 0 {
		s += fmt.Sprintf(" · %d unknown", c.unknown)
	}
	return fit(s+m.theme.Muted.Render(" │ ")+"profile: "+a.Profile.Summary(), m.width)
}

// warnings are what must not be missed, most urgent first: a scan the
// kernel's counters show (held as long as the assessment holds it),
// owners the monitor cannot see, and a reachable count that cannot be
// trusted because many firewall verdicts are unknown.
func (m *Model) warnings() []string {
	var out []string
	if a := m.assessment; a != nil {
		for _, s := range a.Scans {
			out = append(out, scanWarning(s, m.now.Sub(s.Last))+" (e)")
		}
	}
	if m.snap != nil && !m.snap.Root {
		var hidden []string
		if m.snap.Hidden > 0 {
			hidden = append(hidden, fmt.Sprintf("%d owners hidden", m.snap.Hidden))
		}
		if m.snap.NetnsSkipped > 0 {
			hidden = append(hidden, "namespaces skipped")
		}
		if len(hidden) > 0 {
			out = append(out, strings.Join(hidden, ", ")+": run as root")
		}
	}
	if a := m.assessment; a != nil {
		c := m.surface
		switch why := firewallReason(a.FirewallNote); {
		case why != "" && c.unknown > 0:
			out = append(out, fmt.Sprintf("firewall not read (%s): %d of %d listeners unknown", why, c.unknown, c.outside))
		case why != "":
			out = append(out, "firewall not read: "+why)
		case c.manyUnknown():
			out = append(out, fmt.Sprintf("firewall verdict unknown for %d of %d listeners: they may be reachable", c.unknown, c.outside))
		}
	}
	return out
}

// scanWarning is a scan in a few words, for the header.
func scanWarning(s assess.NetScan, ago time.Duration) string {
	where := ""
	if s.Netns != "" && s.Netns != sockets.HostNetns {
		where = " in " + s.Netns
	}
	w := fmt.Sprintf("SCAN%s: %d closed-port resets", where, s.Resets)
	switch {
	case s.HalfOpen >= assess.HalfOpenThreshold:
		w += fmt.Sprintf(", %d half-open (nmap -sS)", s.HalfOpen)
	case s.HalfOpen > 0:
		w += fmt.Sprintf(", %d half-open", s.HalfOpen)
	}
	if sec := int(ago.Seconds()); sec >= 2 {
		w += fmt.Sprintf(", %ds ago", sec)
	}
	return w
}

// firewallReason is the assessment's firewall note in a few words.
func firewallReason(note string) string {
	r, ok := strings.CutPrefix(note, "firewall not evaluated: ")
	switch {
	case note == "":
		return ""
	case r == reach.ReasonNotRoot:
		return "not root, needs CAP_NET_ADMIN"
	case r == reach.ReasonLegacy:
		return "legacy iptables"
	case ok:
		return r
	}
	return note
}
