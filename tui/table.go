package tui

import (
	"cmp"
	"fmt"
	"strings"
	"time"

	"github.com/portwatch/portwatch/tui/rowset"
)

// sortState is a tab's sort column (by title) and order.
type sortState struct {
	col     string
	reverse bool
}

// tableModel is the table component: the current tab, each tab's sort and
// selection, the rows of the current tab and the scroll offset. It is a
// value: copies of it share no state that either can change.
type tableModel struct {
	tab    rowset.Tab
	sorts  [rowset.TabCount]sortState
	views  [rowset.TabCount]rowset.View // each tab keeps its own selection
	offset int                          // first visible row
	width  int                          // the table's width, for the columns it shows
	height int                          // data rows on screen
	// withBaseline: listeners are compared with a baseline, whose flags
	// sort first on the Listening tab and have a column.
	withBaseline bool
	// withFirewall: listeners carry the firewall's verdict, shown after
	// their exposure.
	withFirewall bool
	// withTraffic: the sockets come with the kernel's counters, and the
	// rates have columns.
	withTraffic bool
	// link narrows the rows to a listener's connections (c); esc clears it.
	link *link
	// lines are the rows as the last frame drew them (shared by copies).
	lines *rowLines
	// kept is the last queries made, for the sorts they were made for:
	// every poll asks for them. Replaced, never changed.
	kept *keptQueries
}

// keptQueries is every tab's query for the sorts and the baseline flag.
type keptQueries struct {
	sorts        [rowset.TabCount]sortState
	withBaseline bool
	qs           []rowset.Query
}

// link is a narrowing that follows a relation rather than text.
type link struct {
	label string // "connections of tcp4 0.0.0.0:80", for the tab bar
	where func(*rowset.Row) bool
}

func newTable() tableModel {
	t := tableModel{lines: newRowLines()}
	for tab := range t.sorts {
		t.sorts[tab].col = defaultSort[tab]
	}
	return t
}

// view is the current tab's rows and selection.
func (t *tableModel) view() *rowset.View { return &t.views[t.tab] }

// current is the selected row, or nil.
func (t *tableModel) current() *rowset.Row { return t.view().Current() }

// query is what the current tab shows under a filter.
func (t *tableModel) query(filter string) rowset.Query {
	q := t.queryOf(t.tab)
	q.Filter = filter
	if t.link != nil {
		q.Where = t.link.where
	}
	return q
}

// queries are every tab's whole rows in its sort: the orders the store
// keeps (a tab not on screen too, so that switching to it finds its rows
// in order).
func (t *tableModel) queries() []rowset.Query {
	if k := t.kept; k != nil && k.sorts == t.sorts && k.withBaseline == t.withBaseline {
		return k.qs // every poll asks: made again only for another sort
	}
	qs := make([]rowset.Query, 0, rowset.TabCount)
	for tab := range rowset.TabCount {
		qs = append(qs, t.queryOf(tab))
	}
	t.kept = &keptQueries{sorts: t.sorts, withBaseline: t.withBaseline, qs: qs}
	return qs
}

// queryOf is a tab's rows in its sort, named by what decides the order.
func (t *tableModel) queryOf(tab rowset.Tab) rowset.Query {
	st := t.sorts[tab]
	col := columnByTitle(columnsOf(tab, true, t.withBaseline, false, true), st.col)
	less := col.less
	flagsFirst := t.withBaseline && tab == rowset.Listening
	name := fmt.Sprintf("%s reverse=%v flags=%v", col.title, st.reverse, flagsFirst)
	return rowset.Query{Tab: tab, Name: name, ReadsFlows: trafficColumns[col.title], Order: func(a, b *rowset.Row) int {
		if flagsFirst {
			if c := cmp.Compare(baselineRank(a), baselineRank(b)); c != 0 {
				return c
			}
		}
		if st.reverse {
			return -less(a, b)
		}
		return less(a, b)
	}}
}

// sortedByTraffic reports whether the current tab is sorted by a rate: a
// poll that only moved bytes then changes the order.
func (t *tableModel) sortedByTraffic() bool { return trafficColumns[t.sorts[t.tab].col] }

// refresh takes the current tab's rows from the store again.
func (t *tableModel) refresh(s *rowset.Store, filter string) {
	t.view().Refresh(s, t.query(filter))
	t.scrollToCursor()
}

func (t *tableModel) setSize(w, rows int) {
	t.width, t.height = w, rows
	t.scrollToCursor()
}

func (t *tableModel) move(delta int) {
	t.view().Move(delta)
	t.scrollToCursor()
}

// switchTab shows another tab, its rows taken afresh.
func (t *tableModel) switchTab(tab rowset.Tab, s *rowset.Store, filter string) {
	if tab == t.tab {
		return
	}
	t.tab, t.offset = tab, 0
	t.refresh(s, filter)
}

// visibleColumns are the columns that fit the table's width.
func (t *tableModel) visibleColumns(multiNetns bool) ([]column, []int) {
	return fitColumns(columnsOf(t.tab, multiNetns, t.withBaseline, t.withFirewall, t.withTraffic), t.width-gutter)
}

// cycleSort sorts by the next column on screen (a column dropped for width
// is skipped: sorting by what cannot be seen reads as disorder). It returns
// the column's title.
func (t *tableModel) cycleSort(multiNetns bool) string {
	cols, _ := t.visibleColumns(multiNetns)
	st := &t.sorts[t.tab]
	next := 0
	for i, c := range cols {
		if c.title == st.col {
			next = (i + 1) % len(cols)
		}
	}
	st.col, st.reverse = cols[next].title, false
	return st.col
}

// scrollToCursor keeps the cursor inside the visible rows.
func (t *tableModel) scrollToCursor() {
	h, v := t.height, t.view()
	if h <= 0 {
		t.offset = 0
		return
	}
	cur := v.Cursor()
	if cur < t.offset {
		t.offset = max(cur, 0)
	}
	if cur >= t.offset+h {
		t.offset = cur - h + 1
	}
	t.offset = max(min(t.offset, v.Len()-h), 0)
}

// columnByTitle finds a column; the first for an unknown title.
func columnByTitle(cols []column, title string) column {
	for _, c := range cols {
		if c.title == title {
			return c
		}
	}
	return cols[0]
}

// gutter is the cursor '>' and the mark '+' / '-' before every row.
const gutter = 2

// tableLook is what drawing the table needs from the root model.
type tableLook struct {
	theme      Theme
	cells      cellContext
	multiNetns bool
	empty      string // what an empty table says
}

// render draws the column header and the visible rows, h lines of w cells.
// Only the rows on screen are formatted.
func (t *tableModel) render(look tableLook, w, h int) []string {
	if h <= 0 {
		return nil
	}
	cols, widths := fitColumns(columnsOf(t.tab, look.multiNetns, t.withBaseline, t.withFirewall, t.withTraffic), w-gutter)
	st := t.sorts[t.tab]
	cells := make([]string, len(cols))
	for i, c := range cols {
		title := c.title
		if title == st.col {
			title += map[bool]string{false: "↑", true: "↓"}[st.reverse]
		}
		cells[i] = align(title, widths[i], c.right)
	}
	// Every line is made exactly w cells here, once: a row's line is kept
	// fitted (measuring forty styled lines again, grapheme by grapheme, was
	// most of a quiet frame).
	lines := make([]string, 0, h)
	lines = append(lines, fit(look.theme.ColumnHeader.Render(fit("  "+strings.Join(cells, " "), w)), w))
	v := t.view()
	rows := v.Rows()
	end := min(t.offset+h-1, len(rows))
	showsAge := false
	for _, c := range cols {
		showsAge = showsAge || c.title == colAge.title
	}
	names := -1
	if look.cells.names != nil {
		names = len(look.cells.names)
	}
	t.lines.frame(lineLayout{tab: t.tab, width: w, multiNetns: look.multiNetns, withBaseline: t.withBaseline,
		withFirewall: t.withFirewall, traffic: t.withTraffic, names: names})
	for i := t.offset; i < end; i++ {
		r, selected := rows[i], i == v.Cursor()
		marks := rowMarks{selected: selected, removed: r.Removed(), added: r.Added(look.cells.now)}
		if showsAge {
			marks.age = ageKey(look.cells.now.Sub(r.FirstSeen()))
		}
		lines = append(lines, t.lines.line(r, marks, func() string { return fit(renderRow(look, r, selected, cols, widths, w), w) }))
	}
	if len(rows) == 0 && len(lines) < h {
		lines = append(lines, fit(look.theme.Muted.Render("  "+look.empty), w))
	}
	for len(lines) < h {
		lines = append(lines, strings.Repeat(" ", max(w, 0)))
	}
	return lines
}

func renderRow(look tableLook, r *rowset.Row, selected bool, cols []column, widths []int, w int) string {
	th, now := look.theme, look.cells.now
	mark := " "
	switch {
	case r.Removed():
		mark = "-"
	case r.Added(now):
		mark = "+"
	}
	cursor := " "
	if selected {
		cursor = ">"
	}
	cells := make([]string, len(cols))
	for i, c := range cols {
		cells[i] = align(c.cell(look.cells, r), widths[i], c.right)
		// The risk badge keeps its colour unless the whole row is styled.
		if c.title == colRisk.title && !selected && !r.Removed() {
			cells[i] = th.Risk(r.Risk).Render(cells[i])
		}
	}
	line := cursor + mark + strings.Join(cells, " ")
	switch {
	case selected:
		return th.Selected.Render(fit(line, w))
	case r.Removed():
		return th.Removed.Render(fit(line, w))
	case mark == "+":
		return th.Added.Render(cursor+mark) + fit(strings.Join(cells, " "), w-2)
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

// ageOf is how long ago a moment was, in a word.
func ageOf(now, then time.Time) string { return shortDuration(now.Sub(then)) }
