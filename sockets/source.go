package sockets

import "context"

// Source produces snapshots: sockets/collect reads the machine, and the
// monitor's tests use a small fake.
type Source interface {
	Snapshot(ctx context.Context) (*Snapshot, error)
}

// Recycler is a Source that can reuse a snapshot's memory. A caller done
// with a snapshot's Sockets (it keeps no pointer into them) hands it back,
// and the next poll fills the same array instead of a new one: at 60,000
// sockets that is 9 MB less to allocate and collect every second.
type Recycler interface {
	Recycle(*Snapshot)
}
