package poll

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/assess"
)

// steadySource hands out the same sockets poll after poll, a second
// apart, into the array the last poll gave back: a quiet machine, as far
// as the rest of the poll can tell.
type steadySource struct {
	socks []sockets.Socket
	spare []sockets.Socket
	at    time.Time
}

func (s *steadySource) Snapshot(context.Context) (*sockets.Snapshot, error) {
	s.at = s.at.Add(time.Second)
	arr := append(s.spare[:0], s.socks...)
	s.spare = nil
	return &sockets.Snapshot{Sockets: arr, Taken: s.at, Counters: true}, nil
}

func (s *steadySource) Recycle(snap *sockets.Snapshot) { s.spare = snap.Sockets }

// steadySockets is n established connections of one server (with their
// counters, which do not move), its listener and a few other listeners.
func steadySockets(n int) []sockets.Socket {
	web := &sockets.Process{PID: 100, Name: "nginx", Exe: "/usr/sbin/nginx", User: "www-data", UID: 33}
	socks := []sockets.Socket{
		{Proto: sockets.TCP, Family: 4, Local: netip.MustParseAddr("0.0.0.0"), LPort: 443, Remote: netip.MustParseAddr("0.0.0.0"),
			State: sockets.StateListen, Inode: 1, Owners: []*sockets.Process{web}, OwnerStatus: sockets.OwnerKnown, Netns: sockets.HostNetns},
	}
	for i := range n {
		socks = append(socks, sockets.Socket{Proto: sockets.TCP, Family: 4, Local: netip.MustParseAddr("10.0.0.5"), LPort: 443,
			Remote: netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}), RPort: uint16(1024 + i%60000), State: sockets.StateEstablished,
			Inode: uint64(1000 + i), Owners: []*sockets.Process{web}, OwnerStatus: sockets.OwnerKnown, Netns: sockets.HostNetns,
			Traffic: &sockets.Traffic{BytesSent: 5000, BytesReceived: 700}})
	}
	sockets.SetDirections(socks)
	return socks
}

// quietPollAllocs is the allocations of one quiet poll of n connections,
// after the polls that learn them.
func quietPollAllocs(n int) float64 {
	src := &steadySource{socks: steadySockets(n), at: time.Unix(1_000_000, 0)}
	p := New(Config{Source: src, Knowledge: assess.NewKnowledge("/nonexistent", "/nonexistent")})
	poll := func() {
		r, err := p.Poll(context.Background(), nil)
		if err != nil {
			panic(err)
		}
		r.Release()
	}
	for range 3 {
		poll()
	}
	return testing.AllocsPerRun(5, poll)
}

// A quiet poll's allocations do not grow with the number of sockets: an
// unchanged socket is not judged again, and nothing is made for it in
// traffic, the assessment or the events (issue 24). What a poll allocates
// whatever the size (the assessment's arrays, a map or two) is allowed.
func TestQuietPollAllocationsDoNotGrow(t *testing.T) {
	small, large := quietPollAllocs(2000), quietPollAllocs(20000)
	t.Logf("a quiet poll allocates %.0f times at 2,000 connections, %.0f at 20,000", small, large)
	if large > small+16 {
		t.Errorf("a quiet poll allocates %.0f times at 20,000 connections against %.0f at 2,000: it grows with the sockets", large, small)
	}
}

// BenchmarkQuietPoll is one quiet poll of 20,000 connections through
// traffic, the assessment and the events (collection is measured in
// sockets/collect and bench/).
func BenchmarkQuietPoll(b *testing.B) {
	src := &steadySource{socks: steadySockets(20000), at: time.Unix(1_000_000, 0)}
	p := New(Config{Source: src, Knowledge: assess.NewKnowledge("/nonexistent", "/nonexistent")})
	for range 3 {
		r, _ := p.Poll(context.Background(), nil)
		r.Release()
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		r, err := p.Poll(context.Background(), nil)
		if err != nil {
			b.Fatal(err)
		}
		r.Release()
	}
}
