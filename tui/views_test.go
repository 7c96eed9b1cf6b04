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

// G and end go to a view's last line, g and home back to its first.
func TestTopAndBottomKeysInViews(t *testing.T) {
	hs := started(t, 80, 24)
	for _, k := range []string{"enter", "?", "L"} {
		hs.keys("G", k)
		top := hs.m.View()
		hs.scrollToEnd()
		end := hs.m.View()
		if end == top {
			t.Fatalf("%s: the view does not scroll at 80x24; the test needs a longer text", k)
		}
		for _, bottom := range []string{"G", "end"} {
			hs.keys("g")
			hs.keys(bottom)
			if v := hs.m.View(); v != end {
				t.Errorf("%s then %s does not show the end:\n%s\nwant\n%s", k, bottom, v, end)
			}
			hs.keys(map[string]string{"G": "g", "end": "home"}[bottom])
			if v := hs.m.View(); v != top {
				t.Errorf("%s then %s does not show the top again:\n%s", k, bottom, v)
			}
		}
		hs.keys("esc")
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
