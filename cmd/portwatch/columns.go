//go:build linux

package main

import (
	"io"
	"strings"

	"github.com/charmbracelet/x/ansi"
)

// textTable lines up columns by their width on a terminal, not their
// length in bytes or runes: a process name in CJK or with combining marks
// (text/tabwriter counted those wrong, moving the next columns by +5 and -4
// cells) keeps every column in place.
type textTable struct {
	rows [][]string
}

func (t *textTable) add(cells ...string) { t.rows = append(t.rows, cells) }

// write prints the rows with two spaces between columns; the last column
// is not padded.
func (t *textTable) write(w io.Writer) error {
	var widths []int
	for _, r := range t.rows {
		for i, c := range r {
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], ansi.StringWidth(c))
		}
	}
	var b strings.Builder
	for _, r := range t.rows {
		for i, c := range r {
			b.WriteString(c)
			if i < len(r)-1 {
				b.WriteString(strings.Repeat(" ", widths[i]-ansi.StringWidth(c)+2))
			}
		}
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}
