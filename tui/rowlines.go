package tui

import (
	"time"

	"github.com/portwatch/portwatch/sockets/assess"
	"github.com/portwatch/portwatch/sockets/traffic"
	"github.com/portwatch/portwatch/tui/rowset"
)

// rowLines remembers the table's rows as the last frame drew them: a row
// that reads as it did (the same verdict and flow, both immutable, the same
// marks, selection and age) in a table laid out alike is not formatted
// again. A quiet poll then redraws the header's clock, not forty rows of
// cells, each measured grapheme by grapheme to fit its column.
//
// Copies of the model share it (as they share the store); only the table's
// render reads and fills it, on the UI goroutine. A line is kept under
// everything it is drawn from, so no copy is handed a line that another
// would draw differently, and only the rows of the last frame are kept.
type rowLines struct {
	layout    lineLayout
	cur, prev map[*rowset.Row]drawnRow
	drawn     int // lines formatted so far (the tests count them)
}

// lineLayout is what every row's line depends on besides the row: the
// columns (from the tab, the table's width and what the poll carries) and
// the host names shown.
type lineLayout struct {
	tab                                             rowset.Tab
	width                                           int
	multiNetns, withBaseline, withFirewall, traffic bool
	names                                           int // host names known (they are only added), -1 when off
}

// drawnRow is one row's line and what it was drawn from.
type drawnRow struct {
	verdict *assess.Verdict
	flow    *traffic.Flow
	marks   rowMarks
	line    string
}

// rowMarks is what a row's line shows besides its verdict and flow.
type rowMarks struct {
	selected, removed, added bool
	age                      int64 // the AGE cell's value, where the table shows it
}

func newRowLines() *rowLines {
	return &rowLines{cur: map[*rowset.Row]drawnRow{}, prev: map[*rowset.Row]drawnRow{}}
}

// frame starts a frame of layout l: the lines of the frame before are
// kept for it (all forgotten if it is laid out otherwise).
func (c *rowLines) frame(l lineLayout) {
	c.cur, c.prev = c.prev, c.cur
	clear(c.cur)
	if l != c.layout {
		clear(c.prev)
		c.layout = l
	}
}

// line is r's line with these marks, drawn by draw unless the last frame
// (or this one) drew it from the same things.
func (c *rowLines) line(r *rowset.Row, marks rowMarks, draw func() string) string {
	d, ok := c.cur[r]
	if !ok {
		d, ok = c.prev[r]
	}
	if !ok || d.verdict != r.Verdict || d.flow != r.Flow() || d.marks != marks {
		d = drawnRow{verdict: r.Verdict, flow: r.Flow(), marks: marks, line: draw()}
		c.drawn++
	}
	c.cur[r] = d
	return d.line
}

// ageKey is equal for two durations exactly when shortDuration writes them
// alike: the AGE cell's value, without making its string.
func ageKey(d time.Duration) int64 {
	switch {
	case d < 0:
		return 0
	case d < time.Minute:
		return int64(d / time.Second)
	case d < time.Hour:
		return 1<<20 + int64(d/time.Minute)
	case d < 48*time.Hour:
		return 2<<20 + int64(d/time.Hour)
	}
	return 3<<20 + int64(d/(24*time.Hour))
}
