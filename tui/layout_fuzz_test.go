package tui

import (
	"strings"
	"testing"
)

// The width helpers keep their promise whatever the text: fit gives exactly
// w cells, wrap never a line wider than w.
func TestWidthHelpersOnHostileText(t *testing.T) {
	for _, c := range []struct {
		s string
		w int
	}{{"\xe60", 37}, {"\u0605", 235}, {" 0000", 3}, {"日本語のテキスト", 5}, {"e\u0301\u0301\u0301", 2}, {"\x1b[31mred\x1b[0m", 2}} {
		if got := widthOf(fit(c.s, c.w)); got != c.w {
			t.Errorf("fit(%q, %d) is %d cells", c.s, c.w, got)
		}
		for _, l := range wrap(c.s, c.w) {
			if widthOf(l) > c.w {
				t.Errorf("wrap(%q, %d) gave %q, %d cells", c.s, c.w, l, widthOf(l))
			}
		}
	}
}

func FuzzWidthHelpers(f *testing.F) {
	for _, seed := range []string{"", " 0000", "\xe60", "\u0605", "日本", "a b c", "\x1b[1mx"} {
		f.Add(seed, uint8(3))
	}
	f.Fuzz(func(t *testing.T, s string, w8 uint8) {
		w := int(w8)%240 + 1
		if got := widthOf(fit(s, w)); got != w {
			t.Fatalf("fit(%q, %d) is %d cells", s, w, got)
		}
		for _, l := range wrap(s, w) {
			if widthOf(l) > w {
				t.Fatalf("wrap(%q, %d) gave %q, %d cells", s, w, l, widthOf(l))
			}
		}
		if n := len(wrap(s, w)); n > len(s)+1 {
			t.Fatalf("wrap(%q, %d) gave %d lines", s, w, n)
		}
		_ = strings.Join(hanging("  ", "  ", s, w), "\n")
	})
}
