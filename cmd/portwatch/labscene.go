//go:build linux

package main

import (
	"context"
	"fmt"

	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/baseline"
	"github.com/portwatch/portwatch/sockets/collect"
	"github.com/portwatch/portwatch/sockets/lab"
)

// monitorOnScene is the lab's monitor: the monitor with its defaults,
// stepping through the scene, compared with the baseline the scene wrote
// for itself (its teaching servers expected, the backdoor not), and shown
// only the scene's own sockets unless --whole-machine: a class runs many labs on
// one machine, and each student sees their own.
func monitorOnScene(scene lab.Scene, cfg labConfig) error {
	b, err := baseline.Load(scene.BaselinePath())
	if err != nil {
		return fmt.Errorf("lab: the lab's own baseline: %w", err)
	}
	var src sockets.Source = collect.NewLive()
	if !cfg.all {
		src = newLabSource(src, scene)
	}
	return runMonitor(monitorSettings{interval: defaultInterval}, src, b, "", scene)
}

// labSource is the collector seen through the lab: only the scene's
// sockets (lab.Scene.Mine), and, where the lab has a network namespace of
// its own, that namespace labelled as the lab's (lab.NetnsLabel) rather
// than host, which the collector running inside it would call it.
type labSource struct {
	inner   sockets.Source
	scene   lab.Scene
	relabel bool
}

func newLabSource(inner sockets.Source, scene lab.Scene) *labSource {
	return &labSource{inner: inner, scene: scene, relabel: scene.InOwnNamespace()}
}

// Snapshot is the inner source's snapshot with the scene's sockets only,
// copied out (a lab's scene is a few dozen sockets).
func (s *labSource) Snapshot(ctx context.Context) (*sockets.Snapshot, error) {
	snap, err := s.inner.Snapshot(ctx)
	if err != nil || snap == nil {
		return snap, err
	}
	out := *snap
	out.Sockets = nil
	// What the header warns of is the scene's: its sockets are the
	// student's own, and no other namespace is the lab's.
	out.Hidden, out.NetnsSkipped = 0, 0
	for i := range snap.Sockets {
		sk := snap.Sockets[i]
		if !s.scene.Mine(&sk) {
			continue
		}
		if s.relabel && (sk.Netns == sockets.HostNetns || sk.Netns == "") {
			sk.Netns = lab.NetnsLabel
		}
		if sk.OwnerStatus == sockets.OwnerHidden {
			out.Hidden++
		}
		out.Sockets = append(out.Sockets, sk)
	}
	// The counters and firewalls of the scene's namespaces only: a scan of
	// the host, or of another student's lab, is not this lab's (the
	// collector, as root, reads every namespace).
	ours := map[uint64]bool{}
	for i := range out.Sockets {
		ours[out.Sockets[i].NetnsInode] = true
	}
	out.TCPStats = keepOurs(snap.TCPStats, ours)
	if s.relabel {
		stats := make(map[uint64]sockets.TCPCounters, len(out.TCPStats))
		for ino, c := range out.TCPStats {
			if c.Netns == sockets.HostNetns || c.Netns == "" {
				c.Netns = lab.NetnsLabel // a scan "in lab", as its sockets are labelled
			}
			stats[ino] = c
		}
		out.TCPStats = stats
	}
	out.Firewalls = keepOurs(snap.Firewalls, ours)
	// Not handed back to a Recycler: the copies share the owners' slices
	// with the inner snapshot, and a recycled array may be refilled.
	return &out, nil
}

// keepOurs is m with only the namespaces in ours, or m itself when it has
// no other.
func keepOurs[V any](m map[uint64]V, ours map[uint64]bool) map[uint64]V {
	other := false
	for ino := range m {
		other = other || !ours[ino]
	}
	if !other {
		return m
	}
	out := make(map[uint64]V, len(ours))
	for ino, v := range m {
		if ours[ino] {
			out[ino] = v
		}
	}
	return out
}
