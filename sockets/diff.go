package sockets

// Change is what happened between two snapshots.
type Change struct {
	Added   []Socket
	Removed []Socket
}

// Diff compares two socket lists by Key: sockets only in cur are added,
// sockets only in prev are removed. A nil prev is a baseline: nothing is added.
func Diff(prev, cur []Socket) Change {
	var c Change
	if prev == nil {
		return c
	}
	before := make(map[SocketKey]struct{}, len(prev))
	for i := range prev {
		before[prev[i].Key()] = struct{}{}
	}
	now := make(map[SocketKey]struct{}, len(cur))
	for i := range cur {
		k := cur[i].Key()
		now[k] = struct{}{}
		if _, ok := before[k]; !ok {
			c.Added = append(c.Added, cur[i])
		}
	}
	for i := range prev {
		if _, ok := now[prev[i].Key()]; !ok {
			c.Removed = append(c.Removed, prev[i])
		}
	}
	return c
}
