package tui

import (
	"testing"

	"github.com/portwatch/portwatch/sockets/events"
)

// A poll with more events than the pane keeps (a first poll on a machine
// with hundreds of unexpected listeners) keeps the newest, and never
// panics.
func TestMoreEventsThanThePaneKeeps(t *testing.T) {
	hs := started(t, 100, 30)
	for _, n := range []int{maxEvents + 100, 3, maxEvents} {
		evs := make([]events.Event, n)
		for i := range evs {
			evs[i].Port = uint16(i)
		}
		msg := hs.reply(hs.m.seq, snapAt(t0, fixtureSockets()), t0)
		msg.events = evs
		hs.send(msg)
		if len(hs.m.events) != maxEvents || hs.m.events[0].Port != uint16(n-1) {
			t.Fatalf("after %d events: %d kept, newest %d", n, len(hs.m.events), hs.m.events[0].Port)
		}
	}
}
