package tui

import (
	"fmt"
	"io"
	"math"
	"net"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/collect"
	"github.com/portwatch/portwatch/sockets/sockettest"
	"github.com/portwatch/portwatch/sockets/traffic"
	"github.com/portwatch/portwatch/tui/rowset"
)

// trafficSnaps is the fixture polled n times a second apart, with the
// kernel's counters: nginx's inbound connection (inode 201) sends 1.9 MB/s,
// curl's (203) receives a rate that rises and falls, ssh's (202) is idle;
// the TIME_WAIT remnant counts down from 42 s.
func trafficSnaps(n int) []*sockets.Snapshot {
	var out []*sockets.Snapshot
	var curlIn uint64
	for i := range n {
		socks := fixtureSockets()
		curlIn += uint64(400_000 * (1 + math.Sin(float64(i)/3)))
		for j := range socks {
			s := &socks[j]
			if s.State == sockets.StateTimeWait {
				s.Timer, s.Expires = sockets.TimerTimeWait, uint32(42_000-1000*(n-1-i))
			}
			if s.Proto != sockets.TCP || s.IsListening() || s.Inode == 0 {
				continue
			}
			c := &sockets.Traffic{RTT: 1250, BytesSent: 4200, BytesReceived: 880}
			switch s.Inode {
			case 201:
				c.BytesSent += uint64(i) * 1_900_000
				c.BytesReceived += uint64(i) * 120
				c.SendQueue = 65536
			case 203:
				c.BytesReceived += curlIn
				c.Retransmits = 3
			}
			s.Traffic = c
		}
		out = append(out, snapAt(t0.Add(time.Duration(i)*time.Second), socks))
	}
	return out
}

// withTraffic starts a monitor on trafficSnaps(n) and polls them all.
func withTraffic(t *testing.T, w, h, n int) *harness {
	t.Helper()
	hs := started(t, w, h, trafficSnaps(n)...)
	for range n - 1 {
		hs.poll()
	}
	return hs
}

// selectWhere moves the cursor to the first row ok accepts.
func (hs *harness) selectWhere(ok func(*rowset.Row) bool) {
	hs.t.Helper()
	hs.keys("g")
	for range hs.rows() {
		if ok(hs.m.table.current()) {
			return
		}
		hs.keys("j")
	}
	hs.t.Fatal("no such row")
}

// The screens with traffic: the rate columns (at 80 columns they give way),
// a listener's sum, a connection's details with its minute as a sparkline,
// the programs pane, and TIME_WAIT's countdown.
func TestTrafficGolden(t *testing.T) {
	isNginx := func(r *rowset.Row) bool { return r.Socket.Inode == 201 }
	isTimeWait := func(r *rowset.Row) bool { return r.Socket.State == sockets.StateTimeWait }
	for _, size := range [][2]int{{80, 24}, {120, 40}} {
		w, h := size[0], size[1]
		screens := []struct {
			name string
			keys []string
			pick func(*rowset.Row) bool
		}{
			{"traffic_listening", []string{"1"}, nil},
			{"traffic_established", []string{"2"}, nil},
			{"traffic_detail", []string{"2"}, isNginx},
			{"traffic_programs", []string{"P"}, nil},
			{"traffic_time_wait", []string{"3"}, isTimeWait},
		}
		for _, sc := range screens {
			t.Run(fmt.Sprintf("%s_%dx%d", sc.name, w, h), func(t *testing.T) {
				hs := withTraffic(t, w, h, 30)
				hs.keys(sc.keys...)
				if sc.pick != nil {
					hs.selectWhere(sc.pick)
					hs.keys("enter")
				}
				golden.RequireEqual(t, []byte(hs.m.View()))
			})
		}
	}
}

// Rates read as people write them, in at most eight cells.
func TestHumanRate(t *testing.T) {
	for in, want := range map[float64]string{0: "0 B/s", 0.4: "0 B/s", 512: "512 B/s", 999.4: "999 B/s", 999.6: "1.0 KB/s",
		1500: "1.5 KB/s", 9949: "9.9 KB/s", 9951: "10 KB/s", 123_456: "123 KB/s", 1_900_000: "1.9 MB/s",
		999_499: "999 KB/s", 999_500: "1.0 MB/s", 42e9: "42 GB/s", -3: "0 B/s", math.NaN(): "0 B/s"} {
		got := humanRate(in)
		if got != want {
			t.Errorf("%v: %q, want %q", in, got, want)
		}
		if widthOf(got) > 8 {
			t.Errorf("%v: %q is wider than its column", in, got)
		}
	}
}

// A sparkline is as high as each value's share of the peak, blank where
// nothing moved, and keeps a burst when it has fewer cells than values.
func TestSparkline(t *testing.T) {
	cases := []struct {
		values []float32
		width  int
		peak   float64
		want   string
	}{
		{[]float32{0, 1, 2, 3, 4, 5, 6, 7, 8}, 9, 8, " ▁▂▃▄▅▆▇█"},
		{[]float32{0, 0.01, 8, 0}, 4, 8, " ▁█ "},
		{[]float32{0, 0, 0, 8, 0, 0, 0, 0}, 4, 8, " █  "}, // two values a cell: the burst stays
		{[]float32{1, 2}, 10, 2, "▄█"},                    // never wider than its values
		{[]float32{5, 5}, 2, 0, "  "},
		{nil, 5, 1, ""},
		{[]float32{1}, 0, 1, ""},
	}
	for _, c := range cases {
		if got := sparkline(c.values, c.width, c.peak); got != c.want {
			t.Errorf("sparkline(%v, %d, %v) = %q, want %q", c.values, c.width, c.peak, got, c.want)
		}
	}
}

// The programs pane groups the connections by program, sums their rates
// and counts them, busiest first; listeners and ownerless remnants are
// left out, and a program with UDP sockets only shows no rate.
func TestProgramsGroupAndSort(t *testing.T) {
	hs := withTraffic(t, 120, 40, 5)
	uses := groupByProgram(hs.m.store.Each)
	var got []string
	for _, u := range uses {
		got = append(got, fmt.Sprintf("%s %d %d %.0f %.0f %v", u.name, len(u.pids), u.conns, u.in, u.out, u.counted))
	}
	want := []string{
		"nginx 1 2 120 1900000 true", // two connections of the worker: port 80, and the CLOSE_WAIT one
		"curl 1 2 " + strconv.Itoa(int(400_000*(1+math.Sin(4.0/3)))) + " 0 true",
		"sshd 1 1 0 0 true",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("programs:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	hs.keys("P")
	v := hs.m.View()
	if hs.m.openView() != (programsView{}) || !strings.Contains(v, "which program is using the network") || !strings.Contains(v, "1.9 MB/s") {
		t.Errorf("P does not show the programs:\n%s", v)
	}
	hs.keys("P")
	if hs.m.openView() != nil {
		t.Error("P again does not go back")
	}
}

// A poll that only moves bytes redraws the rates without taking and
// sorting the rows again, unless they are sorted by a rate; an idle poll
// changes nothing at all.
func TestOnlyRatesChangedDoesNotResort(t *testing.T) {
	snaps := trafficSnaps(4)
	hs := started(t, 120, 40, snaps...)
	hs.keys("2")
	hs.poll()
	rowsBefore := hs.rows()
	hs.poll() // bytes moved, nothing else
	if &hs.rows()[0] != &rowsBefore[0] {
		t.Error("the rows were taken again although only rates changed")
	}
	if !strings.Contains(hs.m.View(), "1.9 MB/s") {
		t.Errorf("the new rates are not shown:\n%s", hs.m.View())
	}
	for hs.m.table.sorts[rowset.Established].col != "RATE IN" {
		hs.keys("s")
	}
	hs.poll()
	// Sorted by a rate, a poll that moved bytes puts the rows in their new
	// order (the same array where it still holds).
	for i, rows := 1, hs.rows(); i < len(rows); i++ {
		if rateKey(rows[i-1], flowIn) < rateKey(rows[i], flowIn) {
			t.Errorf("sorted by RATE IN, row %d is slower than row %d after bytes moved", i-1, i)
		}
	}
	if r := hs.rows()[0]; r.Socket.Inode != 203 {
		t.Errorf("busiest first: %s first, want curl's download", r.Key())
	}
	// The last snapshot repeats, at the same time: nothing moves.
	rowsBefore = hs.rows()
	hs.poll()
	if &hs.rows()[0] != &rowsBefore[0] {
		t.Error("an idle poll took the rows again")
	}
}

// rateOf finds a rate ("1.9 MB/s") in a text, in bytes per second.
var rateText = regexp.MustCompile(`(\d+(?:\.\d)?) (B|KB|MB|GB)/s`)

func ratesIn(s string) []float64 {
	var out []float64
	for _, m := range rateText.FindAllStringSubmatch(s, -1) {
		v, _ := strconv.ParseFloat(m[1], 64)
		out = append(out, v*map[string]float64{"B": 1, "KB": 1e3, "MB": 1e6, "GB": 1e9}[m[2]])
	}
	return out
}

// A real loopback connection that the test paces at 2 MB/s, through the
// real monitor model and the real collect source: the model's rate is
// within 25% of it, and so is the screen's; the byte counts are exactly
// what the test sent; once the sender pauses its rate is zero within two
// polls.
func TestRateOfARealConnection(t *testing.T) {
	if testing.Short() {
		t.Skip("paces a connection for seconds")
	}
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err := net.Dial("tcp4", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	server, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	var received atomic.Int64
	go func() {
		n, _ := io.Copy(io.Discard, server)
		received.Store(n)
	}()
	// 20 kB every 10 ms: 2 MB/s, until told to pause.
	const rate = 2_000_000
	var sent atomic.Int64
	pause, paused := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(paused)
		chunk := make([]byte, rate/100)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-pause:
				return
			case <-tick.C:
				n, err := client.Write(chunk)
				sent.Add(int64(n))
				if err != nil {
					return
				}
			}
		}
	}()

	hs := newHarness(t, 200, 50)
	cfg := hs.m.cfg
	cfg.Source = collect.NewLive()
	hs.m = New(cfg)
	hs.send(tea.WindowSizeMsg{Width: 200, Height: 50})
	hs.send(tickMsg{})
	cport, sport := uint16(client.LocalAddr().(*net.TCPAddr).Port), uint16(ln.Addr().(*net.TCPAddr).Port)
	rowOf := func(lport, rport uint16) *rowset.Row {
		for _, r := range hs.m.store.Rows(rowset.Query{Tab: rowset.Established, Where: func(r *rowset.Row) bool {
			return r.Socket.LPort == lport && r.Socket.RPort == rport
		}}, nil) {
			return r
		}
		t.Fatalf("no row for 127.0.0.1:%d → %d", lport, rport)
		return nil
	}
	for range 3 {
		time.Sleep(time.Second)
		hs.poll()
	}
	out, in := rowOf(cport, sport).Flow(), rowOf(sport, cport).Flow()
	if out == nil || in == nil || !out.Measured || !in.Measured {
		t.Fatalf("no measured flows: client %+v, server %+v", out, in)
	}
	t.Logf("paced at %d B/s: the client's row says out %.0f B/s, the server's in %.0f B/s", rate, out.Out, in.In)
	for what, got := range map[string]float64{"client out": out.Out, "server in": in.In} {
		if got < 0.75*rate || got > 1.25*rate {
			t.Errorf("%s: %.0f B/s, want %d within 25%%", what, got, rate)
		}
	}
	if out.In != 0 || in.Out != 0 {
		t.Errorf("bytes the other way: client in %.0f, server out %.0f", out.In, in.Out)
	}

	// The screen: the client's row, found by filtering on its port, shows
	// the rate in RATE OUT, and its details the minute of it.
	hs.keys("2", "/")
	hs.keys(strings.Split(strconv.Itoa(int(cport)), "")...)
	hs.keys("enter")
	hs.selectWhere(func(r *rowset.Row) bool { return r.Socket.LPort == cport && r.Socket.RPort == sport })
	view := hs.m.View()
	var line string
	clientRow := regexp.MustCompile(fmt.Sprintf(`127\.0\.0\.1:%d\s+127\.0\.0\.1:%d\s`, cport, sport))
	for _, l := range strings.Split(view, "\n") {
		if clientRow.MatchString(l) { // local, then remote: the client's end
			line = l
			break
		}
	}
	rates := ratesIn(line)
	if len(rates) < 2 || rates[1] < 0.75*rate || rates[1] > 1.25*rate || rates[0] != 0 {
		t.Errorf("the screen's row %q: rates %v, want 0 in and %d out within 25%%", line, rates, rate)
	}
	if !strings.Contains(view, "Traffic") || !strings.ContainsAny(view, "▅▆▇█") {
		t.Errorf("the details show no traffic or sparkline:\n%s", view)
	}

	// Pause: the rate is zero within two polls, on the model and the screen.
	close(pause)
	<-paused
	sockettest.WaitDelivered(t, 5*time.Second, client.(*net.TCPConn)) // the last bytes arrive
	zero := false
	for range 2 {
		time.Sleep(time.Second)
		hs.poll()
		if f := rowOf(cport, sport).Flow(); f.Out == 0 {
			zero = true
			break
		}
	}
	if !zero {
		t.Errorf("paused, the rate is still %.0f B/s after two polls", rowOf(cport, sport).Flow().Out)
	}
	if !strings.Contains(hs.m.View(), "0 B/s") {
		t.Errorf("the screen does not show the pause:\n%s", hs.m.View())
	}
	// Nothing of the test's moves now (other connections on this machine
	// might): when nothing moved, the next poll leaves the counters out
	// and every row keeps its flow.
	idle := rowOf(cport, sport).Flow()
	time.Sleep(time.Second)
	hs.poll()
	if !hs.m.snap.Counters && rowOf(cport, sport).Flow() != idle {
		t.Error("a poll without counters changed an idle connection's flow")
	}
	t.Logf("the poll after the pause asked for counters: %v", hs.m.snap.Counters)
	// The byte counts are what the test sent, exactly (and the SYN on the
	// side that opened).
	c, s := rowOf(cport, sport).Flow().Counters, rowOf(sport, cport).Flow().Counters
	if c.BytesSent != uint64(sent.Load())+1 || s.BytesReceived != uint64(sent.Load()) {
		t.Errorf("sent %d: the client's counters say %d acknowledged, the server's %d received", sent.Load(), c.BytesSent, s.BytesReceived)
	}
}

// TIME_WAIT's details say how long the kernel keeps it, by its countdown;
// without one (sockets read from a fake) the usual 60 s is said.
func TestTimeWaitCountdown(t *testing.T) {
	hs := withTraffic(t, 120, 40, 3)
	hs.keys("3")
	hs.selectWhere(func(r *rowset.Row) bool { return r.Socket.State == sockets.StateTimeWait })
	if v := hs.m.View(); !strings.Contains(strings.Join(strings.Fields(v), " "), "TIME_WAIT: 42 s left") {
		t.Errorf("no countdown in the details:\n%s", v)
	}
	hs = started(t, 120, 40)
	hs.keys("3")
	hs.selectWhere(func(r *rowset.Row) bool { return r.Socket.State == sockets.StateTimeWait })
	if v := hs.m.View(); !strings.Contains(v, "after 60 s") {
		t.Errorf("without a countdown:\n%s", v)
	}
}

// UDP keeps no counters: its rate cells are blank, not zero; an idle TCP
// connection reads 0 B/s, and one seen once reads … until a second poll.
func TestRateCells(t *testing.T) {
	if got := rateCell(nil, flowIn); got != "" {
		t.Errorf("no flow: %q", got)
	}
	if got := rateCell(&traffic.Flow{}, flowIn); got != "…" {
		t.Errorf("unmeasured: %q", got)
	}
	if got := rateCell(&traffic.Flow{Measured: true}, flowOut); got != "0 B/s" {
		t.Errorf("idle: %q", got)
	}
	hs := withTraffic(t, 200, 40, 3)
	hs.keys("1")
	for _, l := range strings.Split(hs.m.View(), "\n") {
		if strings.Contains(l, "127.0.0.53") && strings.Contains(l, "/s") {
			t.Errorf("a UDP listener shows a rate: %q", l)
		}
	}
}
