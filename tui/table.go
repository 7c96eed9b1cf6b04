package tui

import (
	"strings"
)

// viewTable renders the column header and the visible rows, h lines of w
// cells. Only the rows on screen are formatted.
func (m *Model) viewTable(w, h int) []string {
	if h <= 0 {
		return nil
	}
	const gutter = 2 // cursor '>' and mark '+' / '-'
	all := tabColumns[m.tab]
	if m.multiNetns { // where each socket lives matters once there are several
		all = append([]column{colNetns}, all...)
	}
	cols, widths := fitColumns(all, w-gutter)
	st := m.sorts[m.tab]
	sortTitle := tabColumns[m.tab][st.col].title

	cells := make([]string, len(cols))
	for i, c := range cols {
		title := c.title
		if title == sortTitle {
			title += map[bool]string{false: "↑", true: "↓"}[st.reverse]
		}
		cells[i] = align(title, widths[i], c.right)
	}
	lines := []string{m.theme.ColumnHeader.Render(fit("  "+strings.Join(cells, " "), w))}

	end := min(m.offset+h-1, len(m.rows))
	for i := m.offset; i < end; i++ {
		lines = append(lines, m.viewRow(m.rows[i], i == m.cursor, cols, widths, w))
	}
	if len(m.rows) == 0 {
		msg := "  no sockets here"
		if m.snap == nil {
			msg = "  reading sockets…"
		} else if m.filter.Value() != "" {
			msg = "  no rows match the filter"
		}
		lines = append(lines, m.theme.Muted.Render(msg))
	}
	return fitLines(lines, w, h)
}

func (m *Model) viewRow(t *tracked, selected bool, cols []column, widths []int, w int) string {
	mark := " "
	switch {
	case t.removed():
		mark = "-"
	case t.added(m.now):
		mark = "+"
	}
	cursor := " "
	if selected {
		cursor = ">"
	}
	cells := make([]string, len(cols))
	for i, c := range cols {
		cells[i] = align(c.cell(m, t), widths[i], c.right)
		// The risk badge keeps its colour unless the whole row is styled.
		if c.title == colRisk.title && !selected && !t.removed() {
			cells[i] = m.theme.Risk(t.risk).Render(cells[i])
		}
	}
	line := cursor + mark + strings.Join(cells, " ")
	switch {
	case selected:
		return m.theme.Selected.Render(fit(line, w))
	case t.removed():
		return m.theme.Removed.Render(fit(line, w))
	case mark == "+":
		return m.theme.Added.Render(cursor+mark) + fit(strings.Join(cells, " "), w-2)
	}
	return fit(line, w)
}

// align truncates s to w cells with an ellipsis and pads it left or right.
func align(s string, w int, right bool) string {
	if widthOf(s) > w {
		return fit(s, w)
	}
	pad := strings.Repeat(" ", w-widthOf(s))
	if right {
		return pad + s
	}
	return s + pad
}
