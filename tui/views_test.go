package tui

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
)

// The full-screen views and how they scroll (issue 26 item 6, issue 25
// item 2).

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

// lastLine is the last line of text with something on it, as the screen
// shows it at width w: plain, cut to the width, without trailing spaces.
func lastLine(text string, w int) string {
	lines := strings.Split(text, "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if l := strings.TrimRight(ansi.Strip(fit(lines[i], w)), " "); l != "" {
			return l
		}
	}
	return ""
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

// The last line of a long view can be scrolled to with a lab's narration
// showing: the viewport was sized without the narration, the screen cut
// with it, and the last lines were never shown.
func TestLastLineCanBeScrolledToUnderNarration(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {120, 35}} {
		w, h := size[0], size[1]
		for _, k := range []string{"?", "L", "enter"} {
			hs, _ := labHarness(t, w, h)
			if len(hs.m.narrationLines()) < 3 {
				t.Fatalf("no narration showing at %dx%d", w, h)
			}
			hs.keys(k)
			want := lastLine(openText(hs), w)
			hs.scrollToEnd()
			if v := hs.m.View(); want == "" || !strings.Contains(v, want) {
				t.Errorf("%s at %dx%d: the last line %q cannot be scrolled to:\n%s", k, w, h, want, v)
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

// readOnlyHarness is a monitor that may not end processes: --read-only, or
// no signal sender at all.
func readOnlyHarness(t *testing.T, w, h int, noSignal bool) *harness {
	t.Helper()
	hs := newHarness(t, w, h, snapAt(t0, fixtureSockets()))
	cfg := hs.m.cfg
	cfg.ReadOnly = !noSignal
	if noSignal {
		cfg.Signal = nil
	}
	hs.m = New(cfg)
	hs.send(windowSize(w, h))
	hs.send(tickMsg{})
	return hs
}

// A read-only monitor does not offer K: neither the footer nor the help
// shows it, and K says why it does nothing.
func TestReadOnlyDoesNotOfferKill(t *testing.T) {
	for _, noSignal := range []bool{false, true} {
		hs := readOnlyHarness(t, 120, 40, noSignal)
		footer := func() string { lines := strings.Split(hs.m.View(), "\n"); return lines[len(lines)-1] }
		if f := footer(); strings.Contains(f, "kill") || !strings.Contains(f, "pause") {
			t.Errorf("no signal %v: the footer offers K: %q", noSignal, f)
		}
		hs.keys("?")
		if v := hs.m.View(); strings.Contains(v, "kill") || !strings.Contains(v, "pause") {
			t.Errorf("no signal %v: the help offers K:\n%s", noSignal, v)
		}
		hs.keys("esc")
		hs.selectPort(6379)
		hs.keys("K")
		if hs.m.kill != nil || len(hs.kills) != 0 || !strings.Contains(hs.m.View(), "read-only (--read-only): ending processes is disabled") {
			t.Errorf("no signal %v: K in a read-only monitor:\n%s", noSignal, hs.m.View())
		}
	}
}

// The screens of a read-only monitor: no K in the footer or the help.
func TestReadOnlyGolden(t *testing.T) {
	for _, sc := range []struct {
		name string
		keys []string
	}{{"listening", nil}, {"help", []string{"?"}}} {
		t.Run(sc.name+"_80x24", func(t *testing.T) {
			hs := readOnlyHarness(t, 80, 24, false)
			hs.keys(sc.keys...)
			golden.RequireEqual(t, []byte(hs.m.View()))
		})
	}
}
