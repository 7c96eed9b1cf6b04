package tui

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	"github.com/portwatch/portwatch/sockets/assess"
	"github.com/portwatch/portwatch/tui/rowset"
)

// View renders the screen within the terminal's size. It changes nothing.
func (m Model) View() string {
	if m.width <= 0 || m.height <= 0 {
		return ""
	}
	if tooSmall(m.width, m.height) {
		msg := fmt.Sprintf("terminal too small (%d x %d, need %d x %d)", m.width, m.height, minWidth, minHeight)
		return joinLines(fitLines(wrap(msg, m.width), m.width, m.height))
	}
	lines := []string{m.viewHeader(), m.viewTabs()}
	lines = append(lines, m.narrationLines()...)
	if m.openView() != nil {
		lines = append(lines, m.viewOpen()...)
	} else {
		lines = append(lines, m.viewBody()...)
	}
	lines = append(lines, m.viewStatus(), m.viewFooter())
	return joinLines(lines)
}

func joinLines(lines []string) string { return strings.Join(lines, "\n") }

// viewBody is the table with the detail pane (or the kill dialog) beside or
// below it.
func (m *Model) viewBody() []string {
	l := m.bodyLayout()
	table := m.table.render(tableLook{theme: m.theme, cells: m.cells(), multiNetns: m.store.MultiNetns(), empty: m.emptyTable()}, l.tableW, l.tableH)
	var detail []string
	if m.kill != nil { // the whole command line, where the details were
		detail = renderKill(m.theme, m.kill, l.detailW, l.detailH)
	} else {
		detail = renderDetailPane(m.detailLook(), m.table.current(), l.detailW, l.detailH)
	}
	if !l.side {
		return append(table, detail...)
	}
	out := make([]string, l.tableH)
	sep := m.theme.Muted.Render(" │ ")
	for i := range out {
		out[i] = table[i] + sep + detail[i]
	}
	return out
}

// emptyTable is what a table without rows says.
func (m *Model) emptyTable() string {
	switch {
	case m.snap == nil:
		return "reading sockets…"
	case m.filter.value() != "":
		return "no rows match the filter"
	}
	return "no sockets here"
}

func (m *Model) viewHeader() string {
	left := m.theme.Title.Render("portwatch") + " " + m.cfg.Hostname
	var right []string
	updated := ""
	if m.snap != nil {
		updated = fmt.Sprintf("updated %s in %s", m.lastGood.Format("15:04:05"), roundDuration(m.snap.Took))
		var hidden []string
		if m.snap.Hidden > 0 {
			hidden = append(hidden, fmt.Sprintf("%d owners hidden", m.snap.Hidden))
		}
		if m.snap.NetnsSkipped > 0 {
			hidden = append(hidden, "namespaces skipped")
		}
		if a := m.assessment; a != nil {
			surface := fmt.Sprintf("%d reachable", a.Surface.Reachable)
			if a.Surface.High > 0 {
				surface += fmt.Sprintf(" (%d HIGH)", a.Surface.High)
			}
			if a.FirewallNote != "" {
				surface += " · " + m.theme.Warning.Render("! "+a.FirewallNote)
			}
			right = append(right, surface)
		}
		switch {
		case m.snap.Root:
			right = append(right, "root")
		case len(hidden) > 0:
			right = append(right, m.theme.Warning.Render("! "+strings.Join(hidden, ", ")+": run as root"))
		default:
			right = append(right, "not root")
		}
	} else {
		right = append(right, "reading sockets…")
	}
	if m.cfg.ReadOnly {
		right = append(right, "read-only")
	}
	if m.paused {
		right = append(right, m.theme.Warning.Render("PAUSED"))
	}
	// The warnings matter more than the timing: on a narrow terminal the
	// timing shrinks, then goes.
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

func (m *Model) viewTabs() string {
	var parts []string
	counts := m.store.Counts()
	for t := rowset.Tab(0); t < rowset.TabCount; t++ {
		label := fmt.Sprintf("%d %s (%d)", t+1, t, counts[t])
		if t == m.table.tab {
			parts = append(parts, m.theme.TabActive.Render("["+label+"]"))
		} else {
			parts = append(parts, m.theme.TabInactive.Render(" "+label+" "))
		}
	}
	st := m.table.sorts[m.table.tab]
	arrow := "↑"
	if st.reverse {
		arrow = "↓"
	}
	right := "sort " + st.col + " " + arrow
	if f := m.filter.value(); f != "" && !m.filter.active {
		right = fmt.Sprintf("filter %q: %s · %s", f, statusFor(m.table.view().Len(), "row"), right)
	}
	if l := m.table.link; l != nil {
		right = l.label + " (esc) · " + right
	}
	return spread(strings.Join(parts, " "), m.theme.Muted.Render(right), m.width)
}

// spread puts left and right on one line of width w; right gives way first.
func spread(left, right string, w int) string {
	lw, rw := widthOf(left), widthOf(right)
	if lw+1+rw > w {
		if lw >= w {
			return fit(left, w)
		}
		return fit(left+" "+fit(right, w-lw-1), w)
	}
	return left + strings.Repeat(" ", w-lw-rw) + right
}

func (m *Model) viewStatus() string {
	var s string
	switch {
	case m.kill != nil:
		s = m.theme.Dialog.Render(m.kill.question())
	case m.saving != nil:
		s = m.theme.Dialog.Render(m.saving.question())
	case m.filter.active:
		s = m.filter.view()
	case m.logErr != nil:
		s = m.theme.Error.Render("ERROR writing the event log: " + firstLine(m.logErr.Error()))
	case m.pollErr != nil:
		ago := "never"
		if !m.lastGood.IsZero() {
			ago = shortDuration(m.now.Sub(m.lastGood)) + " ago"
		}
		s = m.theme.Error.Render("ERROR poll failed: "+firstLine(m.pollErr.Error())) + m.theme.Muted.Render(" · last update "+ago)
	case m.status != "" && m.now.Sub(m.statusAt) < rowset.MarkFor:
		s = m.status
	case m.paused:
		s = m.theme.Warning.Render("PAUSED: press p to resume polling")
	default:
		s = m.theme.Muted.Render(m.position())
	}
	return fit(s, m.width)
}

// position is "row 3 of 12" and what the marks mean. Closed rows are still
// shown for a few seconds but no longer counted in the tab: the line says
// how many of the rows they are, so the two numbers agree.
func (m *Model) position() string {
	v := m.table.view()
	if v.Len() == 0 {
		if m.filter.value() != "" {
			return "no rows match the filter · esc clears it"
		}
		return "no sockets in this tab"
	}
	closed := 0
	for _, r := range v.Rows() {
		if r.Removed() {
			closed++
		}
	}
	of := fmt.Sprintf("row %d of %d", v.Cursor()+1, v.Len())
	if closed > 0 {
		of += fmt.Sprintf(" (%d just closed)", closed)
	}
	return of + " · + new  - closed · enter: details"
}

func (m *Model) viewFooter() string {
	if m.kill != nil || m.saving != nil {
		return fit(m.help.ShortHelpView([]key.Binding{m.keys.Confirm, m.keys.Master, m.keys.Cancel}), m.width)
	}
	if m.openView() != nil {
		return fit(m.help.ShortHelpView([]key.Binding{m.keys.Up, m.keys.Down, m.keys.Back, m.keys.Quit}), m.width)
	}
	return fit(m.help.ShortHelpView(m.keys.ShortHelp()), m.width)
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

func riskBadge(t Theme, r assess.Risk) string { return t.Risk(r).Render(r.String()) }

// roundDuration shows a poll's duration to a useful precision.
func roundDuration(d time.Duration) string {
	switch {
	case d >= time.Second:
		return d.Round(10 * time.Millisecond).String()
	case d >= time.Millisecond:
		return d.Round(100 * time.Microsecond).String()
	}
	return d.Round(time.Microsecond).String()
}
