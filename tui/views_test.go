package tui

import "testing"

// The full-screen views and how they scroll (issue 26 item 6).

// viewKeys opens each full-screen view from the table.
var viewKeys = []string{"enter", "?", "e", "L", "P"}

// scrollToEnd presses pgdown until the screen stops changing (bounded).
func (hs *harness) scrollToEnd() {
	hs.t.Helper()
	last := hs.m.View()
	for range 200 {
		hs.keys("pgdown")
		v := hs.m.View()
		if v == last {
			return
		}
		last = v
	}
	hs.t.Fatal("pgdown never reached the end")
}

// A view opens at its top, whatever another view was scrolled to: the
// details opened scrolled down after ? or L had been.
func TestEachViewOpensAtItsTop(t *testing.T) {
	for _, w := range []int{80, 120} {
		hs := started(t, w, 24)
		top := map[string]string{}
		for _, k := range viewKeys {
			hs.keys("G", k)
			top[k] = hs.m.View()
			hs.keys("esc")
		}
		for _, scrolled := range viewKeys {
			for _, k := range viewKeys {
				hs.keys(scrolled)
				hs.scrollToEnd()
				hs.keys("esc", "G", k)
				if v := hs.m.View(); v != top[k] {
					t.Errorf("at %d columns, %s after %s scrolled to its end does not open at its top:\n%s\nwant\n%s", w, k, scrolled, v, top[k])
				}
				hs.keys("esc")
			}
		}
	}
}

// openText is the text of the view on screen, for the width.
func openText(hs *harness) string {
	v := hs.m.openView()
	if v == nil {
		hs.t.Fatal("no view open")
	}
	return v.text(&hs.m, hs.m.width)
}
