package tui

import (
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/collect"
	"github.com/portwatch/portwatch/sockets/sockettest"
	"github.com/portwatch/portwatch/tui/rowset"
)

// c on a listener lists its connections in every state; esc shows all.
func TestCListsAListenersConnections(t *testing.T) {
	hs := started(t, 120, 30)
	hs.selectPort(80)
	hs.keys("c")
	var got []string
	for _, r := range hs.rows() {
		got = append(got, r.Socket.State+" "+r.Socket.RemoteEndpoint())
	}
	slices.Sort(got)
	if !slices.Equal(got, []string{"CLOSE_WAIT 10.0.0.9:51200", "ESTABLISHED 10.0.0.9:51234"}) || hs.m.table.tab != rowset.All {
		t.Fatalf("connections of port 80: %v on tab %v", got, hs.m.table.tab)
	}
	if !strings.Contains(hs.m.View(), "connections of tcp4 0.0.0.0:80 (esc)") {
		t.Errorf("the tab bar does not say what is shown:\n%s", hs.m.View())
	}
	hs.keys("esc")
	if len(hs.rows()) != 12 {
		t.Errorf("esc left %d rows, want all 12", len(hs.rows()))
	}
	hs.keys("1", "j") // not a listener's row is no matter; a connection is
	hs.keys("2", "c")
	if !strings.Contains(hs.m.status, "select a listener first") {
		t.Errorf("c on a connection: %q", hs.m.status)
	}
}

// o jumps from one end of a loopback connection to the other.
func TestOJumpsToTheOtherEnd(t *testing.T) {
	socks := append(fixtureSockets(),
		sk(sockets.TCP, 4, "127.0.0.1", 5000, "127.0.0.1", 40000, "ESTABLISHED", 501, procRedis),
		sk(sockets.TCP, 4, "127.0.0.1", 40000, "127.0.0.1", 5000, "ESTABLISHED", 502, procCurl))
	sockets.SetDirections(socks)
	hs := started(t, 120, 30, snapAt(t0, socks))
	hs.keys("2")
	for hs.m.table.current().Socket.LPort != 40000 {
		hs.keys("j")
	}
	hs.keys("o")
	if r := hs.m.table.current(); r.Socket.LPort != 5000 || r.Socket.RPort != 40000 {
		t.Fatalf("o went to %s", r.Key())
	}
	hs.keys("o")
	if r := hs.m.table.current(); r.Socket.LPort != 40000 {
		t.Errorf("o back went to %s", r.Key())
	}
	hs.keys("k") // curl's https connection: its other end is not here
	for hs.m.table.current().Socket.RPort != 443 {
		hs.keys("j")
	}
	hs.keys("o")
	if !strings.Contains(hs.m.status, "not on this machine") {
		t.Errorf("o on a remote connection: %q", hs.m.status)
	}
}

// A connection's story across polls, through the kernel's swap to a
// TIME_WAIT remnant (no inode, no owner), until it is gone.
func TestHistoryFollowsAConnection(t *testing.T) {
	conn := func(state string, inode uint64) []sockets.Socket {
		s := append(fixtureSockets(), sk(sockets.TCP, 4, "10.0.0.5", 42000, "10.0.0.77", 443, state, inode, procCurl))
		if inode == 0 {
			s[len(s)-1].Owners, s[len(s)-1].OwnerStatus = nil, sockets.OwnerNone
		}
		sockets.SetDirections(s)
		return s
	}
	hs := started(t, 120, 40, snapAt(t0, conn("SYN_SENT", 900)), snapAt(t0, conn("ESTABLISHED", 900)),
		snapAt(t0, conn("FIN_WAIT2", 900)), snapAt(t0, conn("TIME_WAIT", 0)), snapAt(t0, fixtureSockets()))
	for range 4 {
		hs.poll()
	}
	hs.keys("3")
	for hs.m.table.current().Socket.LPort != 42000 {
		hs.keys("j")
	}
	view := hs.m.View()
	want := "SYN_SENT 09:30:00 → ESTABLISHED 09:30:01 → FIN_WAIT2 09:30:02 → TIME_WAIT 09:30:03 → gone 09:30:04"
	if !strings.Contains(strings.Join(strings.Fields(view), " "), want) {
		t.Errorf("history: want %q in\n%s", want, view)
	}
	if !strings.Contains(view, "--interval=100ms sees more") {
		t.Error("the details do not say what a poll can miss")
	}
}

// The history of a real connection the test opens and closes: the client's
// end goes ESTABLISHED, FIN_WAIT2, TIME_WAIT.
func TestHistoryOfARealConnection(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err := net.Dial("tcp4", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	hs := newHarness(t, 120, 40)
	cfg := hs.m.cfg
	cfg.Source = collect.NewLive()
	hs.m = New(cfg)
	hs.send(tea.WindowSizeMsg{Width: 120, Height: 40})
	hs.send(tickMsg{})
	local := client.LocalAddr().(*net.TCPAddr)
	hs.clock.Advance(time.Second)
	cl, sv := sockettest.AddrPort(local), sockettest.AddrPort(ln.Addr())
	client.Close() // client FIN_WAIT2, server CLOSE_WAIT
	sockettest.WaitState(t, 5*time.Second, cl, sv, "FIN_WAIT2")
	hs.poll()
	server.Close() // client TIME_WAIT
	sockettest.WaitState(t, 5*time.Second, cl, sv, "TIME_WAIT")
	hs.poll()
	var row *rowset.Row
	for _, r := range hs.m.store.Rows(rowset.Query{Tab: rowset.All}, nil) {
		// Both ends name the connection: another program may use the same
		// ephemeral port towards another peer.
		if r.Socket.LPort == uint16(local.Port) && r.Socket.RPort == uint16(ln.Addr().(*net.TCPAddr).Port) {
			row = r
		}
	}
	if row == nil {
		t.Fatal("the client's end is not tracked")
	}

	var states []string
	for _, h := range row.History() {
		states = append(states, h.State)
	}
	if !slices.Equal(states, []string{"ESTABLISHED", "FIN_WAIT2", "TIME_WAIT"}) {
		t.Errorf("history %v, want ESTABLISHED FIN_WAIT2 TIME_WAIT", states)
	}
}
