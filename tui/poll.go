package tui

import (
	"context"
	"strconv"
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/portwatch/portwatch/sockets"
)

// entry is one socket with everything a row shows, computed in the poll
// command so that Update and View only look things up.
type entry struct {
	sock    sockets.Socket
	info    *sockets.ServiceInfo // shared, read-only
	risk    sockets.Risk
	conns   int32
	flooded bool
	tab     tab // the tab that lists it, besides All states
	// seen is the describer's last poll that listed this connection, and
	// row the model's record that shows it: each is touched by its owner
	// only. Everything else in an entry is fixed once made.
	seen uint64
	row  *tracked
}

// key is the socket's identity across polls. It is computed, not stored:
// one entry per socket is kept, and the monitor's map holds the key already.
func (e *entry) key() sockets.SocketKey { return e.sock.Key() }

// tickCmd schedules the next tick.
func tickCmd(d time.Duration) tea.Cmd {
	return tea.Tick(d, func(time.Time) tea.Msg { return tickMsg{} })
}

// describer remembers the last poll's entries, so a connection that has not
// changed is not described again: at 20,000 sockets describing is most of a
// poll's cost in the monitor. Only the poll command uses it, and polls never
// overlap (the model starts one only when none is in flight). The model
// holds the same entries, and reads none of what the describer changes.
type describer struct {
	prev map[uint64]*entry // connections by inode: a cheaper key than SocketKey
	gen  uint64
}

func newDescriber() *describer { return &describer{prev: map[uint64]*entry{}} }

// describeAll describes every socket of a snapshot, reusing what it can.
func (d *describer) describeAll(snap *sockets.Snapshot, a *sockets.Analysis) []*entry {
	entries := make([]*entry, len(snap.Sockets))
	if len(d.prev) == 0 { // the first poll: every connection is new
		d.prev = make(map[uint64]*entry, len(snap.Sockets))
	}
	d.gen++
	listed := 0 // connections of this poll that the map holds
	for i := range snap.Sockets {
		s := &snap.Sockets[i]
		if s.IsListening() || s.Inode == 0 { // few, or TIME_WAIT: always fresh
			entries[i] = describe(s, a)
			continue
		}
		p := d.prev[s.Inode]
		if p == nil || p.flooded != a.Flooded(s) || !sameDescription(&p.sock, s) {
			p = describe(s, a)
			d.prev[s.Inode] = p
		}
		if p.seen != d.gen {
			p.seen = d.gen
			listed++
		}
		entries[i] = p
	}
	if listed == len(d.prev) {
		return entries // every remembered connection is still there
	}
	for k, p := range d.prev {
		if p.seen != d.gen {
			delete(d.prev, k)
		}
	}
	return entries
}

// sameDescription: a connection's row and details would read the same.
// Owners are compared by pointer: they are immutable and shared between
// polls while the process is unchanged.
func sameDescription(a, b *sockets.Socket) bool {
	sameEndpoints := a.Local == b.Local && a.Remote == b.Remote && a.LPort == b.LPort && a.RPort == b.RPort &&
		a.Proto == b.Proto && a.Family == b.Family && a.NetnsInode == b.NetnsInode && a.Netns == b.Netns
	sameOwners := a.OwnerStatus == b.OwnerStatus && a.UID == b.UID && len(a.Owners) == len(b.Owners) &&
		a.Process() == b.Process() && lastOwner(a) == lastOwner(b)
	return sameEndpoints && sameOwners && a.State == b.State && a.Direction == b.Direction
}

// pollCmd takes a snapshot off the UI goroutine and describes every socket.
func pollCmd(src sockets.Source, d *describer, kb *sockets.Knowledge, seq int, timeout time.Duration, now func() time.Time) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		snap, err := src.Snapshot(ctx)
		if err != nil {
			return pollErrorMsg{seq: seq, err: err, at: now()}
		}
		a := sockets.Analyze(snap, kb)
		entries := d.describeAll(snap, a)
		// The rows hold copies of the sockets: the model keeps only the
		// snapshot's header, and the source may refill the array.
		header := *snap
		header.Sockets = nil
		if r, ok := src.(sockets.Recycler); ok {
			r.Recycle(snap)
		}
		return snapshotMsg{seq: seq, snap: &header, analysis: a, entries: entries, at: now()}
	}
}

func describe(s *sockets.Socket, a *sockets.Analysis) *entry {
	info := a.Knowledge().SharedForSocket(s)
	e := &entry{sock: *s, info: info, risk: sockets.WorstRisk(s, *info, a.Findings(s)), flooded: a.Flooded(s), tab: tabOf(s)}
	if s.IsListening() {
		e.conns = int32(a.Connections(s))
	}
	return e
}

// matches reports whether the row's visible text holds the filter (lower
// case). The text is built only while a filter is set: most of the time
// nobody filters, and 60,000 rows of text would be memory for nothing.
func (e *entry) matches(needle string) bool {
	s := &e.sock
	for _, f := range []string{s.ProtoLabel(), s.State, s.LocalEndpoint(), s.RemoteEndpoint(),
		strconv.Itoa(int(s.LPort)), e.info.Name, s.OwnerPIDs(), s.Direction.String(), exposureWord(s), e.risk.String(), s.Netns} {
		if strings.Contains(strings.ToLower(f), needle) {
			return true
		}
	}
	for _, p := range s.Owners { // every owner, not only the first
		if strings.Contains(strings.ToLower(p.Name), needle) || strings.Contains(strings.ToLower(p.User), needle) {
			return true
		}
	}
	return strings.Contains(strings.ToLower(s.OwnerName()+" "+s.OwnerUser()), needle)
}

func lastOwner(s *sockets.Socket) *sockets.Process {
	if len(s.Owners) == 0 {
		return nil
	}
	return s.Owners[len(s.Owners)-1]
}
