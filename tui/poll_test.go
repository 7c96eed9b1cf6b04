package tui

import (
	"testing"

	"github.com/portwatch/portwatch/sockets"
)

// TestDescriberReusesOnlyWhatIsUnchanged: an unchanged connection keeps its
// entry from poll to poll; a new state, owner, flood status or a return
// after vanishing gets a fresh one.
func TestDescriberReusesOnlyWhatIsUnchanged(t *testing.T) {
	kb := sockets.NewKnowledge("/nonexistent", "/nonexistent")
	conn := sk(sockets.TCP, 4, "10.0.0.5", 80, "10.0.0.9", 51234, "ESTABLISHED", 201, procWorker)
	listener := sk(sockets.TCP, 4, "0.0.0.0", 80, "0.0.0.0", 0, "LISTEN", 101, procNginx)
	d := newDescriber()
	describeOne := func(socks ...sockets.Socket) *entry {
		t.Helper()
		snap := snapAt(t0, socks)
		sockets.SetDirections(snap.Sockets)
		entries := d.describeAll(snap, sockets.Analyze(snap, kb))
		for _, e := range entries {
			if e.sock.Inode == 201 {
				return e
			}
		}
		return nil
	}
	first := describeOne(listener, conn)
	if first == nil || first.sock.Direction != sockets.Inbound {
		t.Fatalf("the connection was not described as inbound: %+v", first)
	}
	if again := describeOne(listener, conn); again != first {
		t.Error("an unchanged connection was described again")
	}

	closing := conn
	closing.State = "CLOSE_WAIT"
	if e := describeOne(listener, closing); e == first || e.sock.State != "CLOSE_WAIT" {
		t.Errorf("a state change kept the old entry (state %s)", e.sock.State)
	}
	inherited := closing
	inherited.Owners = []*sockets.Process{procWorker, procNginx}
	if e := describeOne(listener, inherited); len(e.sock.Owners) != 2 {
		t.Errorf("a second owner was not seen: %v", e.sock.Owners)
	}

	// Twenty connections from one address to the listener: a flood.
	flood := []sockets.Socket{listener}
	for i := range sockets.FloodThreshold {
		c := conn
		c.RPort, c.Inode = uint16(52000+i), uint64(300+i)
		flood = append(flood, c)
	}
	before := describeOne(listener, conn)
	if e := describeOne(append(flood, conn)...); e == before || !e.flooded {
		t.Error("a connection that became part of a flood kept its old entry")
	}

	describeOne(listener) // gone: forgotten
	if len(d.prev) != 0 {
		t.Errorf("the describer still remembers %d vanished connections", len(d.prev))
	}
	if e := describeOne(listener, conn); e == first {
		t.Error("a connection that vanished and came back reused its old entry")
	}
}
