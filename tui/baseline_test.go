package tui

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/baseline"
	"github.com/portwatch/portwatch/sockets/events"
	"github.com/portwatch/portwatch/tui/rowset"
)

// The fixture's listeners less the backdoor, plus an expected one that is
// not running.
const fixtureBaseline = `host tcp all 80 /usr/sbin/nginx *
host tcp all 22 /usr/sbin/sshd root
host tcp all 6379 /usr/bin/redis-server redis
host udp loopback 53 * *
host tcp loopback 5432 * *
host tcp all 443 /usr/sbin/nginx root
`

func withBaseline(t *testing.T, text string, w, h int, snaps ...*sockets.Snapshot) *harness {
	t.Helper()
	b, err := baseline.Parse(strings.NewReader(text), "/etc/portwatch/baseline")
	if err != nil {
		t.Fatal(err)
	}
	hs := newHarness(t, w, h, snaps...)
	cfg := hs.m.cfg
	cfg.Baseline, cfg.BaselinePath = b, filepath.Join(t.TempDir(), "baseline")
	hs.m = New(cfg)
	hs.send(tea.WindowSizeMsg{Width: w, Height: h})
	hs.send(tickMsg{})
	return hs
}

func TestListeningTabAgainstTheBaseline(t *testing.T) {
	hs := withBaseline(t, fixtureBaseline, 120, 30, snapAt(t0, fixtureSockets()))
	rows := hs.rows()
	if len(rows) != 7 || rows[0].Socket.LPort != 31337 || rows[0].Baseline.Status != baseline.Unexpected {
		t.Fatalf("the unexpected backdoor does not sort first: %v", rowPorts(hs.m))
	}
	if rows[1].Baseline.Status != baseline.Missing || rows[1].Socket.LPort != 443 {
		t.Errorf("no MISSING row for 443 after it: %v", rowPorts(hs.m))
	}
	if n := hs.m.store.Counts()[rowset.Listening]; n != 6 {
		t.Errorf("the tab counts %d, want the 6 real listeners", n)
	}
	view := hs.m.View()
	for _, want := range []string{"BASELINE", "UNEXPECTED", "MISSING", "ok"} {
		if !strings.Contains(view, want) {
			t.Errorf("the screen lacks %q:\n%s", want, view)
		}
	}
	hs.keys("enter")
	if v := hs.m.View(); !strings.Contains(v, "unexpected-listener") && !strings.Contains(v, "Not in the baseline (/etc/portwatch/baseline)") {
		t.Errorf("the details of the unexpected listener lack its finding:\n%s", v)
	}
	hs.keys("esc", "j", "enter")
	if v := hs.m.View(); !strings.Contains(v, "MISSING: line 6 of the baseline expects /usr/sbin/nginx as root listening on tcp all port 443") {
		t.Errorf("the details of the missing listener:\n%s", v)
	}
}

func TestBSavesTheBaselineAfterAsking(t *testing.T) {
	hs := withBaseline(t, "host tcp all 22 /usr/sbin/sshd root\n", 120, 30, snapAt(t0, fixtureSockets()))
	path := hs.m.cfg.BaselinePath
	hs.keys("b")
	if hs.m.saving == nil || !strings.Contains(hs.m.View(), "Save the 6 listeners as the baseline in "+path+"?") {
		t.Fatalf("b does not ask:\n%s", hs.m.View())
	}
	hs.keys("n")
	if _, err := os.Stat(path); err == nil {
		t.Fatal("n saved the baseline")
	}
	hs.keys("b", "y")
	text, err := os.ReadFile(path)
	if err != nil || !strings.Contains(string(text), "host  tcp  all  31337  /tmp/.cache/kworkerd  www-data") {
		t.Fatalf("saved %v:\n%s", err, text)
	}
	hs.poll()
	for _, r := range hs.rows() {
		if r.Baseline.Status != baseline.Expected {
			t.Errorf("after saving, %d is %v", r.Socket.LPort, r.Baseline.Status)
		}
	}
	if !strings.Contains(hs.m.status, "baseline saved: 6 entries") {
		t.Errorf("status %q", hs.m.status)
	}
}

func TestEventsPaneLogAndBell(t *testing.T) {
	base := fixtureSockets()
	more := append(slices.Clone(base), sk(sockets.TCP, 4, "0.0.0.0", 4444, "0.0.0.0", 0, "LISTEN", 777, procDropper))
	b, _ := baseline.Parse(strings.NewReader(fixtureBaseline), "b")
	hs := newHarness(t, 120, 30, snapAt(t0, base), snapAt(t0, more))
	var logged []events.Event
	rings := 0
	cfg := hs.m.cfg
	cfg.Baseline, cfg.Bell = b, true
	cfg.Ring = func() tea.Msg { rings++; return nil }
	cfg.OnEvents = func(evs []events.Event) error {
		logged = append(logged, evs...)
		return errors.New("disk full")
	}
	hs.m = New(cfg)
	hs.send(tea.WindowSizeMsg{Width: 120, Height: 30})
	hs.send(tickMsg{})
	if rings != 1 { // the backdoor, unexpected from the start
		t.Errorf("%d rings at start, want 1", rings)
	}
	hs.poll()
	if rings != 2 {
		t.Errorf("%d rings after a new unexpected listener, want 2", rings)
	}
	kinds := map[events.Kind]int{}
	for _, e := range logged {
		kinds[e.Kind]++
	}
	if kinds[events.Opened] != 1 || kinds[events.Unexpected] != 2 || kinds[events.Missing] != 1 {
		t.Errorf("logged %v", kinds)
	}
	if !strings.Contains(hs.m.View(), "ERROR writing the event log: disk full") {
		t.Errorf("the log error is not shown:\n%s", hs.m.View())
	}
	hs.keys("e")
	view := hs.m.View()
	first := strings.Index(view, "tcp 0.0.0.0:4444")
	if hs.m.openView() != (eventsView{}) || first < 0 || first > strings.Index(view, "tcp 0.0.0.0:31337") {
		t.Errorf("the events pane does not list the newest first:\n%s", view)
	}
	hs.keys("e")
	if hs.m.openView() != nil {
		t.Error("e does not close the events pane")
	}
}
