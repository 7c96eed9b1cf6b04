package tui

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	"github.com/portwatch/portwatch/sockets/assess"
	"github.com/portwatch/portwatch/tui/rowset"
)

// draw renders the screen within the terminal's size.
func (m *Model) draw() string {
	if m.width <= 0 || m.height <= 0 {
		return ""
	}
	if tooSmall(m.width, m.height) {
		msg := fmt.Sprintf("terminal too small (%d x %d, need %d x %d)", m.width, m.height, minWidth, minHeight)
		return joinLines(fitLines(wrap(msg, m.width), m.width, m.height))
	}
	lines := append(m.headerLines(), m.viewTabs())
	lines = append(lines, m.narrationLines()...)
	if m.openView() != nil {
		lines = append(lines, m.viewOpen()...)
	} else {
		lines = append(lines, m.viewBody()...)
	}
	lines = append(lines, m.statusLines()...)
	lines = append(lines, m.viewFooter())
	return joinLines(lines)
}

func joinLines(lines []string) string { return strings.Join(lines, "\n") }

// viewBody is the table with the detail pane (or the kill dialog) beside or
// below it.
func (m *Model) viewBody() []string {
	l := m.bodyLayout()
	table := m.table.render(tableLook{theme: *m.theme, cells: m.cells(), multiNetns: m.store.MultiNetns(), empty: m.emptyTable()}, l.tableW, l.tableH)
	var detail []string
	if m.kill != nil { // the whole command line, where the details were
		detail = renderKill(*m.theme, m.kill, l.detailW, l.detailH)
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

// viewTabs is the tab bar and, at its right, the sort, the filter and the
// relation shown. The sort is never cut: on a narrow terminal the tabs
// take their short names, then the filter and the relation give way.
func (m *Model) viewTabs() string {
	counts := m.store.Counts()
	tabs := func(short bool) string {
		var parts []string
		for t := rowset.Tab(0); t < rowset.TabCount; t++ {
			name := t.String()
			if short {
				name = shortTabNames[t]
			}
			label := fmt.Sprintf("%d %s (%d)", t+1, name, counts[t])
			if t == m.table.tab {
				parts = append(parts, m.theme.TabActive.Render("["+label+"]"))
			} else {
				parts = append(parts, m.theme.TabInactive.Render(" "+label+" "))
			}
		}
		return strings.Join(parts, " ")
	}
	st := m.table.sorts[m.table.tab]
	arrow := "↑"
	if st.reverse {
		arrow = "↓"
	}
	sort := "sort " + st.col + " " + arrow
	extra := ""
	if f := m.filter.value(); f != "" && !m.filter.active {
		extra = fmt.Sprintf("filter %q: %s · ", f, statusFor(m.table.view().Len(), "row"))
	}
	if l := m.table.link; l != nil {
		extra = l.label + " (esc) · " + extra
	}
	left := tabs(false)
	if widthOf(left)+1+widthOf(extra+sort) > m.width {
		left = tabs(true)
	}
	room := m.width - widthOf(left) - 1 - widthOf(sort)
	switch {
	case room < 0:
		return spread(left, m.theme.Muted.Render(sort), m.width)
	case widthOf(extra) > room && room >= 4: // cut, still apart from the sort
		extra = fit(strings.TrimSuffix(extra, " · "), room-3) + " · "
	case widthOf(extra) > room:
		extra = ""
	}
	return spread(left, m.theme.Muted.Render(extra+sort), m.width)
}

// shortTabNames are the tabs' names on a narrow terminal.
var shortTabNames = [rowset.TabCount]string{rowset.Listening: "Listen", rowset.Established: "Estab", rowset.All: "All"}

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

// statusLines is the status line: one line, or a dialog's question
// wrapped onto up to three, so that its end (and y/n) is never cut.
func (m *Model) statusLines() []string {
	q := m.question()
	if q == "" {
		return []string{m.viewStatus()}
	}
	lines := wrap(q, max(m.width, 1))
	if len(lines) > maxQuestionLines {
		lines = lines[:maxQuestionLines]
		lines[maxQuestionLines-1] = fit(lines[maxQuestionLines-1]+" …", m.width)
	}
	for i, l := range lines {
		lines[i] = m.theme.Dialog.Render(fit(l, m.width))
	}
	return lines
}

// question is the open dialog's question, "" for none.
func (m *Model) question() string {
	switch {
	case m.kill != nil:
		return m.kill.question()
	case m.saving != nil:
		return m.saving.question()
	}
	return ""
}

// statusHeight is len(statusLines()) without drawing them.
func (m *Model) statusHeight() int {
	if q := m.question(); q != "" {
		return min(len(wrap(q, max(m.width, 1))), maxQuestionLines)
	}
	return 1
}

// maxQuestionLines bounds a dialog's question: its essentials come first,
// and a long command line is shown whole where the details were.
const maxQuestionLines = 3

func (m *Model) viewStatus() string {
	var s string
	switch {
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
		s = m.position()
		for _, hint := range m.commandHints() { // the longest that fits
			if widthOf(s)+3+widthOf(hint) <= m.width {
				s += " · " + hint
				break
			}
		}
		s = m.theme.Muted.Render(s)
	}
	return fit(s, m.width)
}

// tabCommands is the analyst's command that lists what each tab does.
var tabCommands = [rowset.TabCount]string{
	rowset.Listening: "$ ss -ltnp", rowset.Established: "$ ss -tnp state established", rowset.All: "$ ss -tan",
}

// commandHints are the status line's hints where space allows, longest
// first: the shell command that shows the tab, and what the firewall word
// means to a scanner.
func (m *Model) commandHints() []string {
	c := tabCommands[m.table.tab]
	if m.table.tab == rowset.Listening && m.table.withFirewall {
		return []string{c + " · EXPOSED: what nmap sees from outside", c}
	}
	return []string{c}
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
	closed := v.Closed()
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
