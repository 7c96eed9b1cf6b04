package tui

import (
	"context"
	"slices"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/assess"
	"github.com/portwatch/portwatch/tui/rowset"
)

// Defects a new user met, each with the screen that showed it.

// s must never sort by a column that is not on screen: at 150 columns it
// showed "sort USER ↑" with no USER column. The sorted column's title shows
// whole, with its arrow.
func TestSortCyclesOnlyThroughVisibleColumns(t *testing.T) {
	for _, w := range []int{60, 80, 100, 150, 200} {
		hs := started(t, w, 30)
		for _, tabKey := range []string{"1", "2", "3"} {
			hs.keys(tabKey)
			for range 12 {
				hs.keys("s")
				view := hs.m.View()
				header := strings.Split(view, "\n")[len(hs.m.headerLines())+1] // below the header and the tab bar
				col := hs.m.table.sorts[hs.m.table.tab].col
				if !strings.Contains(header, col+"↑") {
					t.Fatalf("at %d columns, tab %s sorts by %s, which is not on screen:\n%s", w, tabKey, col, view)
				}
			}
		}
	}
}

// Sorting by RISK puts the worst first (it was alphabetical: MEDIUM before
// HIGH).
func TestSortByRiskIsBySeverity(t *testing.T) {
	hs := started(t, 120, 30)
	for hs.m.table.sorts[rowset.Listening].col != "RISK" {
		hs.keys("s")
	}
	var risks []assess.Risk
	for _, r := range hs.rows() {
		risks = append(risks, r.Risk)
	}
	if !slices.IsSortedFunc(risks, func(a, b assess.Risk) int { return int(b) - int(a) }) || risks[0] != assess.RiskHigh {
		t.Errorf("sorted by risk: %v, want HIGH first and worst to best", risks)
	}
}

// The filter matches what the row and its details say: "/all interfaces"
// found nothing while the column said "all", and "//tmp" found nothing.
func TestFilterMatchesWhatTheScreenSays(t *testing.T) {
	hs := started(t, 120, 30)
	for needle, want := range map[string]int{"all interfaces": 4, "/tmp": 1, "world-writable": 1, "deleted": 1} {
		hs.keys("/")
		hs.send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(needle), Paste: true})
		hs.keys("enter")
		if got := len(hs.rows()); got != want {
			t.Errorf("filter %q: %d rows %v, want %d", needle, got, rowPorts(hs.m), want)
		}
		hs.keys("esc")
	}
	hs.keys("/", "/", "t", "m", "p", "enter")
	if !strings.Contains(hs.m.View(), `filter "/tmp": 1 row ·`) {
		t.Errorf("the filter line does not say 1 row:\n%s", hs.m.View())
	}
}

// The footer and the tab count agree: closed rows still shown are said
// apart ("row 1 of 14 (2 just closed)" under a tab of 12).
func TestFooterAndTabCountAgree(t *testing.T) {
	base := fixtureSockets()
	fewer := slices.DeleteFunc(slices.Clone(base), func(s sockets.Socket) bool { return s.Inode == 203 || s.Inode == 205 })
	hs := started(t, 80, 24, snapAt(t0, base), snapAt(t0, fewer))
	hs.keys("3")
	hs.poll()
	view := hs.m.View()
	n := hs.m.store.Counts()[rowset.All]
	if n != len(base)-2 || len(hs.rows()) != len(base) {
		t.Fatalf("tab counts %d with %d rows shown", n, len(hs.rows()))
	}
	if !strings.Contains(view, "3 All states (10)") || !strings.Contains(view, "row 1 of 12 (2 just closed)") {
		t.Errorf("tab and footer disagree:\n%s", view)
	}
}

// A socket whose process cannot be seen shows its user by name, as the
// kernel's uid resolved by collection, not "uid 0".
func TestHiddenOwnerShowsTheUserName(t *testing.T) {
	socks := fixtureSockets()
	socks[5].UID, socks[5].User = 0, "root" // 5432 on loopback, owner hidden
	hs := started(t, 120, 30, snapAt(t0, socks))
	hs.selectPort(5432)
	if row := strings.Split(hs.m.View(), "\n")[2+hs.cursor()+1]; !strings.Contains(row, "root") || strings.Contains(row, "uid 0") {
		t.Errorf("the hidden owner's row: %q", row)
	}
}

// --read-only is marked on screen, and K says why it does nothing.
func TestReadOnlyIsShownAndKSaysSo(t *testing.T) {
	hs := newHarness(t, 100, 30, snapAt(t0, fixtureSockets()))
	hs.m.cfg.ReadOnly = true
	hs.send(tickMsg{})
	if header := strings.Split(hs.m.View(), "\n")[0]; !strings.Contains(header, "read-only") {
		t.Errorf("the header does not say read-only: %q", header)
	}
	hs.selectPort(6379)
	hs.keys("K")
	if hs.m.kill != nil || len(hs.kills) != 0 || !strings.Contains(hs.m.View(), "read-only (--read-only): ending processes is disabled") {
		t.Errorf("K in read-only mode:\n%s", hs.m.View())
	}
}

// esc pressed twice quickly arrives as alt+esc: it acts as two escs.
func TestQuickDoubleEscIsTwoEscs(t *testing.T) {
	hs := started(t, 100, 30)
	hs.keys("/", "r", "e", "d", "enter", "enter")
	if hs.m.openView() != (detailView{}) || len(hs.rows()) != 1 {
		t.Fatalf("set-up: view %d, %d rows", hs.m.open, len(hs.rows()))
	}
	hs.send(tea.KeyMsg{Type: tea.KeyEsc, Alt: true})
	if hs.m.openView() != nil || hs.m.filter.value() != "" || len(hs.rows()) != 6 {
		t.Errorf("alt+esc: view %d, filter %q, %d rows; want the table, no filter, 6 rows", hs.m.open, hs.m.filter.value(), len(hs.rows()))
	}
}

// A copy of the model is its own: pressing 2 on a copy turned all the
// original's Listening rows into other sockets.
func TestACopyOfTheModelNeverChangesAnother(t *testing.T) {
	hs := started(t, 100, 30)
	original := hs.m
	before := original.View()
	hs.keys("2", "j", "/", "x")
	hs.keys("enter")
	if after := original.View(); after != before {
		t.Errorf("the original changed when its copy was used:\nbefore\n%s\nafter\n%s", before, after)
	}
	for _, r := range original.table.view().Rows() {
		if !r.Socket.IsListening() {
			t.Errorf("the original's Listening tab shows a %s socket", r.Socket.State)
		}
	}
}

// Host names are text others choose: the machine's own, and every PTR
// answer. Neither may reach the terminal raw.
func TestHostileHostNamesAreCleaned(t *testing.T) {
	hs := newHarness(t, 120, 30, snapAt(t0, fixtureSockets()))
	cfg := hs.m.cfg
	cfg.Hostname = "web\x1b]0;pwned\a-01"
	cfg.LookupAddr = func(context.Context, string) ([]string, error) { return []string{"evil\x1b[2J\x9b.example."}, nil }
	hs.m = New(cfg)
	hs.send(tea.WindowSizeMsg{Width: 120, Height: 30})
	hs.send(tickMsg{})
	hs.keys("2", "r")
	view := hs.m.View()
	if strings.ContainsAny(view, "\x1b\a\u009b") {
		t.Fatalf("a raw control reached the screen:\n%q", view)
	}
	if !strings.Contains(view, `web\x1b]0;pwned\x07-01`) || !strings.Contains(view, `evil\x1b[2J\x9b.example`) {
		t.Errorf("the names are not shown cleaned:\n%s", view)
	}
}
