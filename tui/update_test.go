package tui

import (
	"errors"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/reach"
	"github.com/portwatch/portwatch/tui/rowset"
)

func started(t *testing.T, w, h int, snaps ...*sockets.Snapshot) *harness {
	t.Helper()
	if len(snaps) == 0 {
		snaps = []*sockets.Snapshot{snapAt(t0, fixtureSockets())}
	}
	hs := newHarness(t, w, h, snaps...)
	hs.send(tickMsg{}) // Init's first tick
	if !hs.m.store.Applied() {
		t.Fatal("the first tick did not poll")
	}
	return hs
}

func rowPorts(m Model) []uint16 {
	var ports []uint16
	for _, r := range m.table.view().Rows() {
		ports = append(ports, r.Socket.LPort)
	}
	return ports
}

func TestTabsSwitchAndCount(t *testing.T) {
	hs := started(t, 100, 30)
	if hs.m.table.tab != rowset.Listening || hs.m.store.Counts() != [rowset.TabCount]int{6, 3, 12} {
		t.Fatalf("tab %d counts %v, want listening and 6/3/12", hs.m.table.tab, hs.m.store.Counts())
	}
	steps := []struct {
		key  string
		want rowset.Tab
	}{{"tab", rowset.Established}, {"tab", rowset.All}, {"tab", rowset.Listening}, {"shift+tab", rowset.All}, {"2", rowset.Established}, {"1", rowset.Listening}, {"3", rowset.All}}
	for _, s := range steps {
		hs.keys(s.key)
		if hs.m.table.tab != s.want {
			t.Errorf("after %s: tab %d, want %d", s.key, hs.m.table.tab, s.want)
		}
	}
	hs.keys("2")
	for _, r := range hs.rows() {
		if r.Socket.Kind() != sockets.KindEstablished {
			t.Errorf("Established tab shows %s", r.Socket.State)
		}
	}
	if len(hs.rows()) != 3 {
		t.Errorf("Established shows %d rows, want 3", len(hs.rows()))
	}
}

func TestSelectionFollowsTheSocketAcrossSnapshots(t *testing.T) {
	base := fixtureSockets()
	more := append(slices.Clone(base), sk(sockets.TCP, 4, "0.0.0.0", 21, "0.0.0.0", 0, "LISTEN", 300, procNginx))
	hs := started(t, 100, 30, snapAt(t0, base), snapAt(t0, more))
	hs.selectPort(6379)
	key := hs.selectedKey()
	before := hs.cursor()
	hs.poll() // port 21 sorts first and pushes every row down
	if hs.selectedKey() != key {
		t.Fatalf("selection moved from %s to %s", key, hs.selectedKey())
	}
	if hs.cursor() != before+1 {
		t.Errorf("cursor %d, want %d (the row moved down one)", hs.cursor(), before+1)
	}
}

func TestNewAndClosedRowsAreMarkedThenExpire(t *testing.T) {
	base := fixtureSockets()
	extra := sk(sockets.TCP, 4, "0.0.0.0", 8080, "0.0.0.0", 0, "LISTEN", 301, procNginx)
	hs := started(t, 100, 30, snapAt(t0, base), snapAt(t0, append(slices.Clone(base), extra)), snapAt(t0, base))
	for _, r := range hs.rows() {
		if r.Added(hs.m.now) {
			t.Fatalf("the baseline marks %s new", r.Key())
		}
	}
	hs.poll()
	got := hs.m.store.Get(extra.Key())
	if got == nil || !got.Added(hs.m.now) {
		t.Fatal("a new listener is not marked new")
	}
	if !regexp.MustCompile(`(?m)^ \+ +8080 `).MatchString(hs.m.View()) {
		t.Errorf("the new row has no + mark:\n%s", hs.m.View())
	}
	hs.selectPort(8080)
	hs.poll() // it closes
	if got := hs.m.store.Get(extra.Key()); got == nil || !got.Removed() {
		t.Fatal("a closed listener is not kept marked closed")
	}
	if !regexp.MustCompile(`(?m)^>- +8080 `).MatchString(hs.m.View()) {
		t.Errorf("the closed row has no - mark:\n%s", hs.m.View())
	}
	if hs.m.store.Counts()[rowset.Listening] != 6 {
		t.Errorf("a closed row is counted: %v", hs.m.store.Counts())
	}
	for i := 0; i < 5; i++ {
		hs.poll()
	}
	if hs.m.store.Get(extra.Key()) != nil {
		t.Error("the closed row is still there after its mark expired")
	}
	if hs.m.table.current() == nil || hs.m.table.current().Socket.LPort == 8080 {
		t.Error("the selection did not move to a neighbour")
	}
	if hs.m.table.current().Socket.LPort != 31337 {
		t.Errorf("selection on port %d, want the neighbour 31337", hs.m.table.current().Socket.LPort)
	}
}

// TestClosedRowsExpireWhilePollsFail: the tick that starts a poll leaves
// the sweep to the poll's reply; a reply that is an error sweeps too, so a
// closed row's mark still runs out while every poll fails.
func TestClosedRowsExpireWhilePollsFail(t *testing.T) {
	base := fixtureSockets()
	extra := sk(sockets.TCP, 4, "0.0.0.0", 8080, "0.0.0.0", 0, "LISTEN", 301, procNginx)
	hs := started(t, 100, 30, snapAt(t0, append(slices.Clone(base), extra)), snapAt(t0, base))
	hs.poll() // it closes
	if got := hs.m.store.Get(extra.Key()); got == nil || !got.Removed() {
		t.Fatal("set-up: the listener is not marked closed")
	}
	hs.src.mu.Lock()
	hs.src.err = errors.New("netlink: no buffer space")
	hs.src.mu.Unlock()
	for range 6 {
		hs.poll()
	}
	if hs.m.pollErr == nil {
		t.Fatal("set-up: the polls did not fail")
	}
	if hs.m.store.Get(extra.Key()) != nil {
		t.Error("the closed row is still there after its mark ran out, the polls failing")
	}
}

func TestFilterAsYouTypeAndEscClears(t *testing.T) {
	hs := started(t, 100, 30)
	hs.keys("/", "r", "e", "d")
	if !hs.m.filter.active || len(hs.rows()) != 1 || hs.rows()[0].Socket.LPort != 6379 {
		t.Fatalf("filter red: %v", rowPorts(hs.m))
	}
	hs.keys("enter")
	if hs.m.filter.active || len(hs.rows()) != 1 {
		t.Fatalf("enter should keep the filter: filtering %v rows %v", hs.m.filter.active, rowPorts(hs.m))
	}
	hs.poll()
	if len(hs.rows()) != 1 {
		t.Errorf("the filter was lost on refresh: %v", rowPorts(hs.m))
	}
	hs.keys("esc")
	hs.keys("/31337") // typed faster than a frame: one message
	if !hs.m.filter.active || len(hs.rows()) != 1 || hs.rows()[0].Socket.LPort != 31337 {
		t.Errorf("a burst of keys: filtering %v rows %v", hs.m.filter.active, rowPorts(hs.m))
	}
	hs.keys("esc")
	if hs.m.filter.value() != "" || len(hs.rows()) != 6 {
		t.Errorf("esc did not clear the filter: %q %v", hs.m.filter.value(), rowPorts(hs.m))
	}
	for filter, want := range map[string]int{"www-data": 2, "HIGH": 2, "loopback": 2, "31337": 1, "udp": 1} {
		hs.keys("/")
		hs.keys(strings.Split(filter, "")...)
		if len(hs.rows()) != want {
			t.Errorf("filter %q: %d rows %v, want %d", filter, len(hs.rows()), rowPorts(hs.m), want)
		}
		hs.keys("esc")
	}
}

func TestSortCyclesReversesAndIsStable(t *testing.T) {
	hs := started(t, 100, 30)
	if got := rowPorts(hs.m); !slices.IsSorted(got) {
		t.Fatalf("default sort by port: %v", got)
	}
	hs.keys("S")
	got := rowPorts(hs.m)
	if !slices.IsSortedFunc(got, func(a, b uint16) int { return int(b) - int(a) }) {
		t.Errorf("S should reverse: %v", got)
	}
	hs.keys("s") // PROTO: many ties
	first := slices.Clone(hs.rows())
	hs.poll()
	for i := range first {
		if hs.rows()[i].Key() != first[i].Key() {
			t.Fatalf("rows moved between polls under an unchanged sort")
		}
	}
	if !strings.Contains(hs.m.View(), "PROTO↑") {
		t.Error("the sort column is not shown")
	}
	visible, _ := hs.m.table.visibleColumns(false)
	for i := 0; i < len(visible)-1; i++ {
		hs.keys("s")
	}
	if col := hs.m.table.sorts[rowset.Listening].col; col != "PORT" {
		t.Errorf("s did not cycle back to the first column: %s", col)
	}
}

func TestPauseStopsPollingAndDropsALateReply(t *testing.T) {
	hs := started(t, 100, 30)
	calls := hs.src.callCount()
	hs.keys("p")
	hs.poll()
	hs.poll()
	if hs.src.callCount() != calls {
		t.Errorf("polled %d times while paused", hs.src.callCount()-calls)
	}
	if !strings.Contains(hs.m.View(), "PAUSED") {
		t.Error("the screen does not say PAUSED")
	}
	// A reply to a poll started before the pause arrives late: dropped.
	late := snapAt(t0.Add(time.Hour), nil)
	hs.send(hs.reply(hs.m.seq-1, late, t0.Add(time.Hour)))
	if hs.m.snap == late {
		t.Error("a stale poll result was applied")
	}
	hs.keys("p")
	hs.poll()
	if hs.src.callCount() != calls+1 {
		t.Errorf("no poll after resuming")
	}
}

func TestTickIsSkippedWhilePolling(t *testing.T) {
	hs := started(t, 100, 30)
	hs.m.polling = true // a slow poll is still running
	calls := hs.src.callCount()
	hs.poll()
	hs.poll()
	if hs.src.callCount() != calls {
		t.Errorf("%d polls started while one was in flight", hs.src.callCount()-calls)
	}
	hs.send(hs.reply(hs.m.seq, snapAt(t0, fixtureSockets()), hs.clock.Now()))
	hs.poll()
	if hs.src.callCount() != calls+1 {
		t.Error("polling did not resume after the slow poll finished")
	}
}

func TestPollErrorStaysInStatusBarWithLastRows(t *testing.T) {
	hs := started(t, 100, 30)
	hs.src.err = errors.New("open /proc/net/tcp: too many open files")
	hs.poll()
	hs.poll()
	hs.poll()
	view := hs.m.View()
	if !strings.Contains(view, "ERROR poll failed: open /proc/net/tcp: too many open files") || !strings.Contains(view, "last update 3s ago") {
		t.Errorf("status bar:\n%s", view)
	}
	if len(hs.rows()) != 6 || !strings.Contains(view, "6379") {
		t.Error("the last good rows are gone")
	}
	hs.src.err = nil
	hs.poll()
	if strings.Contains(hs.m.View(), "ERROR") {
		t.Error("the error stayed after a good poll")
	}
}

func TestKillAsksThenSendsSIGTERMAndOffersSIGKILL(t *testing.T) {
	hs := started(t, 100, 30)
	hs.selectPort(6379)
	hs.keys("K")
	if hs.m.kill == nil || !strings.Contains(hs.m.View(), "End pid 940 (redis-server, user redis)") ||
		!strings.Contains(hs.m.View(), "/usr/bin/redis-server 0.0.0.0:6379") {
		t.Fatalf("no confirmation naming pid, user and command:\n%s", hs.m.View())
	}
	hs.keys("n")
	if len(hs.kills) != 0 || hs.m.kill != nil {
		t.Fatalf("n still sent %v", hs.kills)
	}
	hs.keys("K", "y")
	if len(hs.kills) != 1 || hs.kills[0] != "940 terminated" {
		t.Fatalf("signals sent: %v, want SIGTERM to 940", hs.kills)
	}
	// Two seconds later the port is still held: SIGKILL is offered.
	if n := hs.fire(killCheckMsg{}); n != 1 {
		t.Fatalf("%d checks were scheduled after SIGTERM, want 1", n)
	}
	if hs.m.kill == nil || hs.m.kill.sig != syscall.SIGKILL || !strings.Contains(hs.m.View(), "SIGKILL") {
		t.Fatalf("SIGKILL not offered:\n%s", hs.m.View())
	}
	hs.keys("y")
	if len(hs.kills) != 2 || hs.kills[1] != "940 killed" {
		t.Errorf("signals sent: %v", hs.kills)
	}
}

func TestKillRefusesAndReportsErrors(t *testing.T) {
	self := procCurl
	init := &sockets.Process{PID: 1, Name: "systemd", User: "root"}
	socks := append(fixtureSockets(),
		sk(sockets.TCP, 4, "0.0.0.0", 7000, "0.0.0.0", 0, "LISTEN", 400, init),
		sk(sockets.TCP, 4, "0.0.0.0", 7001, "0.0.0.0", 0, "LISTEN", 401, &sockets.Process{PID: 99999, Name: "portwatch"}),
	)
	hs := started(t, 100, 30, snapAt(t0, socks))
	for port, want := range map[uint16]string{7000: "refused: pid 1", 7001: "refused: that is portwatch itself", 5432: "no process to end"} {
		hs.selectPort(port)
		hs.keys("K")
		if hs.m.kill != nil || !strings.Contains(hs.m.View(), want) {
			t.Errorf("port %d: want %q in\n%s", port, want, hs.m.View())
		}
	}
	hs.killFn = func(int32, syscall.Signal) error { return syscall.EPERM }
	hs.selectPort(80)
	hs.keys("K", "y")
	if !strings.Contains(hs.m.View(), "cannot end pid 812: permission denied") {
		t.Errorf("permission error not shown:\n%s", hs.m.View())
	}
	_ = self

	ro := newHarness(t, 100, 30, snapAt(t0, socks))
	ro.m.cfg.ReadOnly = true
	ro.send(tickMsg{})
	ro.selectPort(6379)
	ro.keys("K")
	if ro.m.kill != nil || len(ro.kills) != 0 || !strings.Contains(ro.m.View(), "read-only") {
		t.Errorf("read-only still offers K")
	}
}

func TestResolveShowsNamesWhenTheyArrive(t *testing.T) {
	hs := started(t, 120, 30)
	hs.keys("2")
	if strings.Contains(hs.m.View(), "example.org") {
		t.Fatal("names shown before r")
	}
	hs.keys("r")
	if !strings.Contains(hs.m.View(), "example.org:443") {
		t.Errorf("no host name after r:\n%s", hs.m.View())
	}
	if !strings.Contains(hs.m.View(), "10.0.0.7:60022") {
		t.Errorf("an address without a name must stay shown")
	}
	hs.keys("r")
	if strings.Contains(hs.m.View(), "example.org") {
		t.Error("r did not turn names off")
	}
}

func TestDetailFullScreenAndBack(t *testing.T) {
	hs := started(t, 80, 24)
	hs.selectPort(31337)
	hs.keys("enter")
	if hs.m.openView() != (detailView{}) {
		t.Fatal("enter did not open the details")
	}
	view := hs.m.View()
	for _, want := range []string{"back-orifice", "HIGH", "world-writable", "deleted executable", "pid 4711", "kworkerd"} {
		if !strings.Contains(view, want) {
			t.Errorf("details lack %q:\n%s", want, view)
		}
	}
	hs.keys("esc")
	if hs.m.openView() != nil {
		t.Error("esc did not return to the table")
	}
	hs.send(tea.WindowSizeMsg{Width: 100, Height: 50})
	hs.keys("?")
	if hs.m.openView() != (helpView{}) || !strings.Contains(helpView{}.text(&hs.m, 100), "TIME_WAIT") {
		t.Error("? does not show the help with the TCP states")
	}
	hs.keys("?")
	if hs.m.openView() != nil {
		t.Error("? did not close the help")
	}
}

func TestQuitKeys(t *testing.T) {
	for _, k := range []tea.KeyMsg{keyMsg("q"), {Type: tea.KeyCtrlC}} {
		hs := started(t, 100, 30)
		_, cmd := hs.m.Update(k)
		if cmd == nil || cmd() != tea.Quit() {
			t.Errorf("%s does not quit", k)
		}
	}
}

func TestMouseWheelMovesTheCursor(t *testing.T) {
	hs := started(t, 100, 30)
	hs.send(tea.MouseMsg{Action: tea.MouseActionPress, Button: tea.MouseButtonWheelDown})
	if hs.cursor() != 3 {
		t.Errorf("wheel down: cursor %d, want 3", hs.cursor())
	}
	hs.send(tea.MouseMsg{Action: tea.MouseActionPress, Button: tea.MouseButtonWheelUp})
	if hs.cursor() != 0 {
		t.Errorf("wheel up: cursor %d, want 0", hs.cursor())
	}
}

// A listener a published port reaches says so in its details: the host's address and port.
func TestDetailSaysPublishedAs(t *testing.T) {
	snap := snapAt(t0, fixtureSockets())
	snap.Published = []sockets.Published{{Published: reach.Published{Proto: "tcp", Host: netip.IPv4Unspecified(), HostPort: 16379,
		To: netip.MustParseAddrPort("172.17.0.2:6379")}, Netns: "host",
		Inside: &sockets.PublishedListener{Netns: "host", Inode: 103, Port: 6379}}}
	hs := started(t, 100, 40, snap)
	hs.selectPort(6379)
	hs.keys("enter")
	if view := hs.m.View(); !strings.Contains(view, "Published as 0.0.0.0:16379") {
		t.Errorf("the redis listener's details do not say it is published:\n%s", view)
	}
	hs.keys("esc")
	hs.selectPort(22)
	hs.keys("enter")
	if view := hs.m.View(); strings.Contains(view, "Published") {
		t.Errorf("sshd is not published:\n%s", view)
	}
}
