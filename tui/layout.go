package tui

import (
	"strings"

	"github.com/charmbracelet/x/ansi"
)

// The smallest terminal the monitor draws in; below it says so.
const (
	minWidth  = 60
	minHeight = 12
	// sideBySideWidth is where the detail pane moves beside the table.
	sideBySideWidth = 140
	chromeLines     = 4 // header, tab bar, status line, footer
)

// layout is where the table and the detail pane go.
type layout struct {
	tableW, tableH   int // tableH counts the column header line
	detailW, detailH int
	side             bool // detail at the right, else below
}

func (m *Model) layout() layout {
	h := max(m.height-chromeLines, 0)
	if m.width >= sideBySideWidth {
		dw := min(max(m.width*2/5, 44), 64)
		return layout{tableW: m.width - dw - 3, tableH: h, detailW: dw, detailH: h, side: true}
	}
	// Below the table the pane takes what the rows leave, so a short list
	// leaves room for the details.
	th := min(max(len(m.rows)+2, h*2/5), h*11/20)
	th = max(th, min(h, 4))
	return layout{tableW: m.width, tableH: th, detailW: m.width, detailH: h - th}
}

// tableRows is how many data rows the table shows.
func (m *Model) tableRows() int { return max(m.layout().tableH-1, 0) }

func (m *Model) tooSmall() bool { return m.width < minWidth || m.height < minHeight }

// fit pads or cuts a (possibly styled) line to exactly w cells.
func fit(s string, w int) string {
	if w <= 0 {
		return ""
	}
	sw := ansi.StringWidth(s)
	if sw > w {
		return ansi.Truncate(s, w, "…")
	}
	return s + strings.Repeat(" ", w-sw)
}

// fitLines makes a block of exactly h lines of exactly w cells.
func fitLines(lines []string, w, h int) []string {
	out := make([]string, h)
	for i := range out {
		if i < len(lines) {
			out[i] = fit(lines[i], w)
		} else {
			out[i] = strings.Repeat(" ", max(w, 0))
		}
	}
	return out
}

// wrap breaks plain text into lines of at most w cells.
func wrap(s string, w int) []string {
	if w <= 0 {
		return nil
	}
	return strings.Split(ansi.Wrap(s, w, ""), "\n")
}
