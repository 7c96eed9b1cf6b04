package tui

import (
	"strings"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"
)

// The smallest terminal the monitor draws in; below it says so.
const (
	minWidth  = 60
	minHeight = 12
	// sideBySideWidth is where the detail pane moves beside the table.
	sideBySideWidth = 140
)

// layout is where the table and the detail pane go.
type layout struct {
	tableW, tableH   int // tableH counts the column header line
	detailW, detailH int
	side             bool // detail at the right, else below
}

// layoutFor places the table and the pane in a width x h block (the screen
// less its chrome: Model.contentHeight) for a table of n rows. Below the
// table the pane takes what the rows leave, so a short list leaves room for
// the details.
func layoutFor(width, h, n int) layout {
	h = max(h, 0)
	if width >= sideBySideWidth {
		dw := min(max(width*2/5, 44), 64)
		return layout{tableW: width - dw - 3, tableH: h, detailW: dw, detailH: h, side: true}
	}
	th := min(max(n+2, h*2/5), h*3/5)
	th = max(th, min(h, 4))
	return layout{tableW: width, tableH: th, detailW: width, detailH: h - th}
}

func tooSmall(w, h int) bool { return w < minWidth || h < minHeight }

// widthOf is the cells a (possibly styled) string takes on screen.
func widthOf(s string) int { return ansi.StringWidth(s) }

// fit pads or cuts a (possibly styled) line to exactly w cells. Text that
// is not valid UTF-8 is mended first (collection cleans what it reads, but
// no line may ever break the screen), and the result is measured again: a
// character that joins the next one (U+0605 prepends itself to what
// follows) makes padding narrower than counted.
func fit(s string, w int) string {
	if w <= 0 {
		return ""
	}
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	for range 4 {
		sw := ansi.StringWidth(s)
		switch {
		case sw > w:
			s = ansi.Truncate(s, w, "…")
		case sw < w:
			s += strings.Repeat(" ", w-sw)
		default:
			return s
		}
	}
	// Still not w cells (a cut that split a cluster): plain cells, cut by
	// hand, never wider than the line.
	return plainFit(ansi.Strip(s), w)
}

// plainFit is fit for unstyled text, a character at a time: the last
// resort when measuring a whole line disagrees with its parts.
func plainFit(s string, w int) string {
	var b strings.Builder
	used := 0
	for _, r := range s {
		rw := ansi.StringWidth(string(r))
		if rw <= 0 || used+rw > w {
			continue
		}
		b.WriteRune(r)
		used += rw
	}
	return b.String() + strings.Repeat(" ", w-used)
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

// wrap breaks plain text into lines of at most w cells, at spaces where it
// can. A line the word wrapper leaves too wide (it keeps a leading space:
// " 0000" at 3 gave " 000") is cut hard.
func wrap(s string, w int) []string {
	if w <= 0 {
		return nil
	}
	var out []string
	for _, l := range strings.Split(ansi.Wrap(s, w, ""), "\n") {
		for ansi.StringWidth(l) > w {
			head := ansi.Truncate(l, w, "")
			if head == "" { // a character wider than the line
				head = plainFit(l, w)
				out = append(out, head)
				l = ""
				break
			}
			out = append(out, head)
			l = ansi.TruncateLeft(l, ansi.StringWidth(head), "")
		}
		out = append(out, l)
	}
	return out
}

// hanging wraps text to width w after first (on the first line) and rest
// (on the others): a paragraph with a label or an indent. The prefixes are
// measured as they show, so a styled label is fine.
func hanging(first, rest, text string, w int) []string {
	lines := wrap(text, max(w-widthOf(rest), 10))
	for i := range lines {
		if i == 0 {
			lines[i] = first + lines[i]
		} else {
			lines[i] = rest + lines[i]
		}
	}
	return lines
}

// packItems lays items out on lines of width w, as many to a line as fit,
// joined by " · ", each after mark: a new line rather than an item broken
// in two (the word wrapper breaks at hyphens, which cuts "-sTCP:LISTEN"
// from its option), and an item wider than the line wrapped under indent.
// Every line starts with first.
func packItems(items []string, first, mark, indent string, w int) []string {
	var lines []string
	for _, text := range items {
		if n := len(lines); n > 0 && widthOf(lines[n-1])+3+widthOf(mark)+widthOf(text) <= w {
			lines[n-1] += " · " + mark + text
			continue
		}
		lead := first
		if len(lines) > 0 {
			lead = strings.Repeat(" ", widthOf(first)-widthOf(mark)) + mark
		}
		lines = append(lines, hanging(lead, strings.Repeat(" ", widthOf(lead)-widthOf(mark))+indent, text, w)...)
	}
	return lines
}
