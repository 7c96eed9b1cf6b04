//go:build linux

package main

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/assess"
)

// benchSnapshot is bench/load's shape: 100 listeners and 10,000
// connections with both ends on this machine (20,100 sockets), held by a
// program run from /tmp, so every socket carries findings.
func benchSnapshot() *sockets.Snapshot {
	snap := &sockets.Snapshot{Taken: time.Now()}
	owner := []*sockets.Process{{PID: 4242, Name: "load", Exe: "/tmp/tmp.x/load", User: "root"}}
	for i := range 100 {
		s := listener("127.0.0.1", uint16(33000+i), "load", "root")
		s.Owners = owner
		snap.Sockets = append(snap.Sockets, s)
	}
	for i := range 20000 {
		c := connection(uint16(33000+i%100), uint16(40000+i%20000), "ESTABLISHED")
		c.Inode, c.Owners, c.OwnerStatus = uint64(100000+i), owner, sockets.OwnerKnown
		snap.Sockets = append(snap.Sockets, c)
	}
	return snap
}

// BenchmarkExporterUpdate is the metrics' share of a watch poll in the
// steady state: the assessor hands back the connections' verdicts of the
// last poll, the listeners are judged anew.
func BenchmarkExporterUpdate(b *testing.B) {
	snap := benchSnapshot()
	as := assess.NewAssessor(assess.SystemKnowledge())
	polls := []*assess.Assessment{as.Assess(snap), as.Assess(snap)}
	e := newExporter()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		e.update(polls[i%2], snap, time.Millisecond)
		i++
	}
}

// BenchmarkExporterUpdateAllNew is the worst case: every verdict differs
// from the last poll's.
func BenchmarkExporterUpdateAllNew(b *testing.B) {
	snap := benchSnapshot()
	polls := []*assess.Assessment{assess.Assess(snap, assess.SystemKnowledge()), assess.Assess(snap, assess.SystemKnowledge())}
	e := newExporter()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		e.update(polls[i%2], snap, time.Millisecond)
		i++
	}
}

// BenchmarkWriteTextfile is the textfile's share of one watch poll: gather,
// encode, write, fsync, rename.
func BenchmarkWriteTextfile(b *testing.B) {
	e := newExporter()
	snap := benchSnapshot()
	e.update(assess.Assess(snap, assess.SystemKnowledge()), snap, time.Millisecond)
	path := filepath.Join(b.TempDir(), "portwatch.prom")
	b.ReportAllocs()
	for b.Loop() {
		if err := writeTextfile(path, e.registry); err != nil {
			b.Fatal(err)
		}
	}
}
