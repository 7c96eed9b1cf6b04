package traffic

import (
	"testing"
	"time"

	"github.com/portwatch/portwatch/sockets"
)

// Each poll's bytes are spread over the seconds between it and the last
// poll: at a steady rate every whole second holds that rate, whatever the
// interval and however the polls fall within seconds.
func TestHistorySpreadsBytesOverSeconds(t *testing.T) {
	for _, interval := range []time.Duration{300 * time.Millisecond, time.Second, 2500 * time.Millisecond} {
		tr := NewTracker()
		start := t0.Add(400 * time.Millisecond) // polls fall mid-second
		var f *Flow
		for at := time.Duration(0); at <= 20*time.Second; at += interval {
			sent := uint64(at.Seconds() * 1e6) // 1 MB/s
			f = tr.Observe(snapAt(start.Add(at), tcpConn(1, 40000, 80, sockets.Traffic{BytesSent: sent}))).Flows[0]
		}
		h := f.History
		if h == nil {
			t.Fatalf("interval %v: no history", interval)
		}
		// Whole seconds since the first poll's second: exactly 1 MB each.
		end := h.End.Unix()
		for i := range HistorySeconds {
			sec := end - HistorySeconds + int64(i)
			full := sec > start.Unix() && sec+1 <= start.Add(20*time.Second).Unix()
			if full && (h.Out[i] < 0.999e6 || h.Out[i] > 1.001e6) {
				t.Errorf("interval %v: second %d holds %v, want 1e6", interval, sec-start.Unix(), h.Out[i])
			}
			if sec < start.Unix() && h.Out[i] != 0 {
				t.Errorf("interval %v: second %d before the first poll holds %v", interval, sec-start.Unix(), h.Out[i])
			}
		}
		if h.In != [HistorySeconds]float32{} {
			t.Errorf("interval %v: bytes in where none came", interval)
		}
	}
}

// A history goes when the connection has been quiet for a minute, which
// frees its place under the bound.
func TestHistoryEndsAfterAQuietMinute(t *testing.T) {
	tr := NewTracker()
	tr.Observe(snapAt(t0, tcpConn(1, 40000, 80, sockets.Traffic{})))
	f := tr.Observe(snapAt(t0.Add(time.Second), tcpConn(1, 40000, 80, sockets.Traffic{BytesReceived: 5000}))).Flows[0]
	if f.History == nil || tr.histories != 1 {
		t.Fatal("no history for a connection that moved")
	}
	for s := 2; s <= 62; s++ {
		f = tr.Observe(snapAt(t0.Add(time.Duration(s)*time.Second), tcpConn(1, 40000, 80, sockets.Traffic{BytesReceived: 5000}))).Flows[0]
		if s < 60 && f.History == nil {
			t.Fatalf("history gone after %d s", s)
		}
	}
	if f.History != nil || tr.histories != 0 {
		t.Errorf("after a quiet minute: history %v, %d kept", f.History != nil, tr.histories)
	}
	// And the flow settles: the same pointer from then on.
	g := tr.Observe(snapAt(t0.Add(63*time.Second), tcpConn(1, 40000, 80, sockets.Traffic{BytesReceived: 5000}))).Flows[0]
	if g != f {
		t.Error("a quiet connection without history got a new flow")
	}
}

// Histories are bounded in total: past the bound a connection that moves
// has rates but no history, until others go quiet.
func TestHistoriesAreBounded(t *testing.T) {
	tr := NewTracker()
	tr.MaxHistories = 3
	mk := func(sent uint64) []sockets.Socket {
		var s []sockets.Socket
		for i := range 10 {
			s = append(s, tcpConn(uint64(100+i), uint16(40000+i), 80, sockets.Traffic{BytesSent: sent}))
		}
		return s
	}
	tr.Observe(snapAt(t0, mk(0)...))
	p := tr.Observe(snapAt(t0.Add(time.Second), mk(1000)...))
	with := 0
	for _, f := range p.Flows {
		if f.History != nil {
			with++
		}
		if !near(f.Out, 1000) {
			t.Errorf("a rate of %v without a history, want 1000", f.Out)
		}
	}
	if with != 3 || tr.histories != 3 {
		t.Errorf("%d histories (%d counted), want the bound, 3", with, tr.histories)
	}
}
