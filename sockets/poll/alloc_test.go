package poll

import (
	"context"
	"net/netip"
	"runtime"
	"slices"
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

// quietJudgeCost is the allocations and bytes of one quiet poll's own
// part (assess and events, with the assessment's arrays handed back as a
// poller does) at n connections, after the polls that learn them; the
// source and the traffic tracker are measured in their own packages.
func quietJudgeCost(n int) (allocs, bytes uint64) {
	src := &steadySource{socks: steadySockets(n), at: time.Unix(1_000_000, 0)}
	p := New(Config{Source: src, Knowledge: assess.NewKnowledge("/nonexistent", "/nonexistent")})
	judge := func() {
		snap, _ := src.Snapshot(context.Background())
		p.judge(snap, nil, nil)
		src.Recycle(snap)
	}
	for range 4 {
		judge()
	}
	const runs = 10
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for range runs {
		judge()
	}
	runtime.ReadMemStats(&after)
	return (after.Mallocs - before.Mallocs) / runs, (after.TotalAlloc - before.TotalAlloc) / runs
}

// A quiet poll's judging allocates next to nothing, whatever the number of
// sockets: no verdict, and no verdicts array either (the poller hands the
// one of three polls ago back to the assessor).
func TestQuietJudgingBytesDoNotGrow(t *testing.T) {
	smallA, smallB := quietJudgeCost(2000)
	largeA, largeB := quietJudgeCost(20000)
	t.Logf("a quiet poll's assess and events: %d allocations, %d bytes at 2,000 connections; %d, %d at 20,000", smallA, smallB, largeA, largeB)
	if largeB > smallB+4096 || largeA > smallA+4 {
		t.Errorf("a quiet poll's judging makes %d bytes (%d allocations) at 20,000 connections against %d (%d) at 2,000: it grows with the sockets",
			largeB, largeA, smallB, smallA)
	}
}

// The verdicts array of a result stays as it was handed out while the next
// two polls run, on other goroutines, as the monitor's do: the UI holds the
// last poll's results (and, after a pause dropped a reply, the one before)
// while the next poll runs. Run with -race.
func TestHeldVerdictsSurviveTwoPolls(t *testing.T) {
	src := &steadySource{socks: steadySockets(50), at: time.Unix(1_000_000, 0)}
	p := New(Config{Source: src, Knowledge: assess.NewKnowledge("/nonexistent", "/nonexistent")})
	type held struct {
		r    *Result
		copy []*assess.Verdict
	}
	var hist []held
	for i := range 8 {
		// A connection comes and goes, so verdicts differ poll to poll.
		src.socks[1+i%len(src.socks[1:])].Inode += 100000
		done := make(chan *Result)
		go func() {
			r, err := p.Poll(context.Background(), nil)
			if err != nil {
				panic(err)
			}
			r.Release()
			done <- r
		}()
		for _, h := range hist[max(0, len(hist)-2):] { // read while the poll runs
			for _, v := range h.r.Assessment.Verdicts {
				_ = v.Socket.Inode
			}
		}
		r := <-done
		for k, h := range hist[max(0, len(hist)-2):] {
			if !slices.Equal(h.r.Assessment.Verdicts, h.copy) {
				t.Fatalf("poll %d changed the verdicts array of the result %d polls before it", i, 2-k)
			}
		}
		hist = append(hist, held{r, slices.Clone(r.Assessment.Verdicts)})
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
