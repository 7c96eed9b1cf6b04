//go:build linux

package main

import (
	"context"
	"testing"

	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/lab"
)

// oneSnapshot is a sockets.Source that hands out the same snapshot.
type oneSnapshot struct{ snap *sockets.Snapshot }

func (o oneSnapshot) Snapshot(context.Context) (*sockets.Snapshot, error) { return o.snap, nil }

// sceneInNetns is a lab.Scene whose sockets are those of one namespace.
type sceneInNetns struct {
	lab.Scene
	ino uint64
}

func (s sceneInNetns) Mine(sk *sockets.Socket) bool { return sk.NetnsInode == s.ino }
func (s sceneInNetns) InOwnNamespace() bool         { return true }

// A scan of the host, or of another student's lab, is not this lab's: the
// lab's source keeps the TCP counters (and firewalls) of the scene's
// namespace only, so that the header's SCAN warning speaks of this lab.
func TestLabSourceKeepsTheSceneCountersOnly(t *testing.T) {
	const mine, host = 4026532001, 4026531840
	snap := &sockets.Snapshot{
		Sockets: []sockets.Socket{
			{Netns: sockets.HostNetns, NetnsInode: mine, LPort: 22, State: sockets.StateListen},
			{Netns: "netns:4026531840", NetnsInode: host, LPort: 80, State: sockets.StateListen},
		},
		TCPStats: map[uint64]sockets.TCPCounters{mine: {Netns: sockets.HostNetns, OutRsts: 1}, host: {Netns: "netns:4026531840", OutRsts: 500}},
	}
	got, err := newLabSource(oneSnapshot{snap}, sceneInNetns{ino: mine}).Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Sockets) != 1 || got.Sockets[0].Netns != lab.NetnsLabel {
		t.Errorf("sockets %+v, want the scene's one, labelled %s", got.Sockets, lab.NetnsLabel)
	}
	if _, ok := got.TCPStats[host]; ok || len(got.TCPStats) != 1 || got.TCPStats[mine].Netns != lab.NetnsLabel {
		t.Errorf("TCP counters %v, want the scene's namespace's only, labelled lab", got.TCPStats)
	}
	if len(snap.TCPStats) != 2 || snap.TCPStats[mine].Netns != sockets.HostNetns {
		t.Errorf("the collector's own snapshot was changed: %v", snap.TCPStats)
	}
}
