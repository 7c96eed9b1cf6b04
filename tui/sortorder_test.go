package tui

import (
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/portwatch/portwatch/tui/rowset"
)

// A key never waits for a sort of a large tab: the first poll's command
// sorts every large tab off the UI goroutine (rowset.SortJob), a tab
// switch before it lands shows the rows unsorted at once, and the sorted
// order replaces them when it does. Before, the switch sorted the tab in
// Update: at 100,000 connections 0.3 to 3 s with the key waiting.
func TestATabSwitchDoesNotWaitForASort(t *testing.T) {
	hs := newHarness(t, 120, 40, manyConnections(rowset.InlineSort+1000))
	// The first tick, its poll run by hand so its commands can be held.
	m, cmd := hs.m.Update(tickMsg{})
	hs.m = m.(Model)
	var snap tea.Msg
	for _, c := range cmd().(tea.BatchMsg) {
		if c == nil {
			continue
		}
		if msg, ok := c().(snapshotMsg); ok {
			snap = msg
		}
	}
	if snap == nil {
		t.Fatal("the first tick started no poll")
	}
	m, held := hs.m.Update(snap)
	hs.m = m.(Model)
	q := hs.m.table.queryOf(rowset.Established)
	if !hs.m.store.Pending(q) {
		t.Fatalf("the Established tab (%d rows) was sorted in Update", hs.m.store.Counts()[rowset.Established])
	}
	hs.keys("2")
	if n := len(hs.rows()); n < rowset.InlineSort || !hs.m.store.Pending(q) {
		t.Fatalf("the switch: %d rows, pending %v; want the rows at once, their order still being sorted", n, hs.m.store.Pending(q))
	}
	hs.run(held) // the sort lands
	if hs.m.store.Pending(q) || !hs.m.table.query("").IsSorted(hs.rows()) {
		t.Fatal("the sorted order did not replace the unsorted rows")
	}
	// Later polls and switches read the kept orders.
	hs.poll()
	hs.keys("3", "2")
	if !hs.m.table.query("").IsSorted(hs.rows()) {
		t.Error("the Established tab is out of order after a poll")
	}
	hs.keys("s")
	hs.keys("s")
	if hs.m.store.Pending(hs.m.table.query("")) || !hs.m.table.query("").IsSorted(hs.rows()) {
		t.Error("a new sort column did not land sorted")
	}
}
