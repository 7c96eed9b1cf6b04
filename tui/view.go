package tui

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/x/ansi"

	"github.com/portwatch/portwatch/sockets"
)

// View renders the screen within the terminal's size. It changes nothing.
func (m Model) View() string {
	if m.width <= 0 || m.height <= 0 {
		return ""
	}
	if m.tooSmall() {
		msg := fmt.Sprintf("terminal too small (%d x %d, need %d x %d)", m.width, m.height, minWidth, minHeight)
		return strings.Join(fitLines(wrap(msg, m.width), m.width, m.height), "\n")
	}
	lines := []string{m.viewHeader(), m.viewTabs()}
	switch m.mode {
	case modeDetail, modeHelp:
		lines = append(lines, fitLines(strings.Split(m.pane.View(), "\n"), m.width, m.height-chromeLines)...)
	default:
		lines = append(lines, m.viewBody()...)
	}
	lines = append(lines, m.viewStatus(), m.viewFooter())
	return strings.Join(lines, "\n")
}

// viewBody is the table with the detail pane beside or below it.
func (m *Model) viewBody() []string {
	l := m.layout()
	table := m.viewTable(l.tableW, l.tableH)
	detail := m.viewDetailPane(l.detailW, l.detailH)
	if m.confirm != nil { // the whole command line, where the details were
		detail = m.viewConfirm(l.detailW, l.detailH)
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
	for t := tab(0); t < tabCount; t++ {
		label := fmt.Sprintf("%d %s (%d)", t+1, tabTitles[t], m.counts[t])
		if t == m.tab {
			parts = append(parts, m.theme.TabActive.Render("["+label+"]"))
		} else {
			parts = append(parts, m.theme.TabInactive.Render(" "+label+" "))
		}
	}
	cols := tabColumns[m.tab]
	st := m.sorts[m.tab]
	arrow := "↑"
	if st.reverse {
		arrow = "↓"
	}
	right := "sort " + cols[st.col].title + " " + arrow
	if f := m.filter.Value(); f != "" && !m.filtering {
		right = fmt.Sprintf("filter %q: %d rows · %s", f, len(m.rows), right)
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
	case m.confirm != nil:
		s = m.theme.Dialog.Render(m.confirm.question())
	case m.filtering:
		s = m.filter.View()
	case m.pollErr != nil:
		ago := "never"
		if !m.lastGood.IsZero() {
			ago = shortDuration(m.now.Sub(m.lastGood)) + " ago"
		}
		s = m.theme.Error.Render("ERROR poll failed: "+firstLine(m.pollErr.Error())) + m.theme.Muted.Render(" · last update "+ago)
	case m.status != "" && m.now.Sub(m.statusAt) < markFor:
		s = m.status
	case m.paused:
		s = m.theme.Warning.Render("PAUSED: press p to resume polling")
	default:
		s = m.theme.Muted.Render(m.position())
	}
	return fit(s, m.width)
}

// position is "row 3 of 12" and what the marks mean.
func (m *Model) position() string {
	if len(m.rows) == 0 {
		if m.filter.Value() != "" {
			return "no rows match the filter · esc clears it"
		}
		return "no sockets in this tab"
	}
	return fmt.Sprintf("row %d of %d · + new  - closed · enter: details", m.cursor+1, len(m.rows))
}

func (m *Model) viewFooter() string {
	if m.confirm != nil {
		return fit(m.help.ShortHelpView([]key.Binding{m.keys.Confirm, m.keys.Cancel}), m.width)
	}
	if m.mode != modeTable {
		return fit(m.help.ShortHelpView([]key.Binding{m.keys.Up, m.keys.Down, m.keys.Back, m.keys.Quit}), m.width)
	}
	return fit(m.help.ShortHelpView(m.keys.ShortHelp()), m.width)
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

func riskBadge(t Theme, r sockets.Risk) string { return t.Risk(r).Render(r.String()) }

func widthOf(s string) int { return ansi.StringWidth(s) }

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
