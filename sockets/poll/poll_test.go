//go:build linux

package poll_test

import (
	"context"
	"errors"
	"net"
	"os"
	"testing"
	"time"

	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/collect"
	"github.com/portwatch/portwatch/sockets/events"
	"github.com/portwatch/portwatch/sockets/poll"
)

// find is the verdict index of the test's own listener.
func find(r *poll.Result, port uint16) int {
	for i, v := range r.Assessment.Verdicts {
		if v.Socket.IsListening() && v.Socket.LPort == port && v.Socket.Proto == sockets.TCP {
			return i
		}
	}
	return -1
}

// One poll of the real machine: the test's own listener is judged, held by
// this process, the counters give its connection a flow in the same order
// as the verdicts, a listener opened between two polls is an event, and
// Release hands the array back while the verdicts stay valid.
func TestPollOfTheRealMachine(t *testing.T) {
	p := poll.New(poll.Config{Source: collect.NewLive(), Interval: time.Second})
	first, err := p.Poll(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Events) != 0 {
		t.Errorf("the first poll is a baseline, but made %d events", len(first.Events))
	}
	first.Release()

	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := uint16(ln.Addr().(*net.TCPAddr).Port)
	c, err := net.Dial("tcp4", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	// The listener is an event of the first poll that sees it; a busy
	// machine's poll can miss a socket the kernel was still adding, so a
	// few polls are given.
	var r *poll.Result
	opened := false
	for try := 0; try < 3 && !opened; try++ {
		if r != nil {
			r.Release()
		}
		if r, err = p.Poll(context.Background(), nil); err != nil {
			t.Fatal(err)
		}
		for _, e := range r.Events {
			opened = opened || e.Kind == events.Opened && e.Port == port
		}
	}
	if !opened {
		t.Errorf("no listener-opened event for port %d in %v", port, r.Events)
	}
	i := find(r, port)
	if i < 0 {
		t.Fatalf("the test's listener on %d is not in the poll", port)
	}
	if got := r.Snapshot.Sockets[i].LPort; got != port {
		t.Errorf("verdict %d is port %d but the snapshot's socket there is %d: not in the same order", i, port, got)
	}
	if p := r.Assessment.Verdicts[i].Socket.Process(); p == nil || int(p.PID) != os.Getpid() {
		t.Errorf("the test's listener is not held by this process: %+v", p)
	}
	if r.Traffic.Flows != nil && len(r.Traffic.Flows) != len(r.Assessment.Verdicts) {
		t.Errorf("%d flows for %d verdicts", len(r.Traffic.Flows), len(r.Assessment.Verdicts))
	}
	if r.Took <= 0 || r.At.IsZero() {
		t.Errorf("took %v at %v", r.Took, r.At)
	}
	v := r.Assessment.Verdicts[i]
	r.Release()
	if r.Snapshot.Sockets != nil || r.Snapshot.Taken.IsZero() {
		t.Error("Release must keep the header and drop the array")
	}
	if v.Socket.LPort != port {
		t.Error("a verdict changed after Release")
	}
}

type failing struct{}

func (failing) Snapshot(context.Context) (*sockets.Snapshot, error) {
	return nil, errors.New("no sockets")
}

// A source's error is the poll's, and nothing is judged.
func TestPollError(t *testing.T) {
	if _, err := poll.New(poll.Config{Source: failing{}}).Poll(context.Background(), nil); err == nil {
		t.Fatal("no error from a failing source")
	}
}

// One timeout bounds every poll, whoever calls it.
func TestTimeout(t *testing.T) {
	if got := poll.Timeout(time.Second); got != 10*time.Second {
		t.Errorf("Timeout(1s) = %v", got)
	}
	if got := poll.Timeout(5 * time.Second); got != 50*time.Second {
		t.Errorf("Timeout(5s) = %v", got)
	}
}
