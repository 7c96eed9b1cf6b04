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
	key   sockets.SocketKey
	sock  sockets.Socket
	info  *sockets.ServiceInfo // shared, read-only
	risk  sockets.Risk
	conns int
}

// tickCmd schedules the next tick.
func tickCmd(d time.Duration) tea.Cmd {
	return tea.Tick(d, func(time.Time) tea.Msg { return tickMsg{} })
}

// describer remembers the last poll's entries, so a connection that has not
// changed is not described again: at 20,000 sockets describing is most of a
// poll's cost in the monitor. Only the poll command uses it, and polls never
// overlap (the model starts one only when none is in flight). Entries are
// never changed once made, so the model may hold the same pointers.
type describer struct {
	prev map[uint64]*describedEntry // by inode: a cheaper key than SocketKey
	gen  uint64
}

type describedEntry struct {
	e   *entry
	sig entrySignature
	gen uint64 // the poll that last saw it
}

// entrySignature is what a connection's description depends on.
type entrySignature struct {
	state   string
	status  sockets.OwnerStatus
	owner   *sockets.Process // owners are immutable and shared between polls
	last    *sockets.Process
	owners  int
	dir     sockets.Direction
	flooded bool
}

func newDescriber() *describer { return &describer{prev: map[uint64]*describedEntry{}} }

// describeAll describes every socket of a snapshot, reusing what it can.
func (d *describer) describeAll(snap *sockets.Snapshot, a *sockets.Analysis) []*entry {
	entries := make([]*entry, len(snap.Sockets))
	d.gen++
	for i := range snap.Sockets {
		s := &snap.Sockets[i]
		key := s.Key()
		if s.IsListening() || s.Inode == 0 { // few, or TIME_WAIT: always fresh
			entries[i] = describe(s, key, a)
			continue
		}
		sig := entrySignature{state: s.State, status: s.OwnerStatus, owner: s.Process(), owners: len(s.Owners),
			last: lastOwner(s),
			dir:  s.Direction, flooded: a.Flooded(s)}
		p := d.prev[s.Inode]
		switch {
		case p == nil:
			p = &describedEntry{describe(s, key, a), sig, d.gen}
			d.prev[s.Inode] = p
		case p.sig != sig || p.e.key != key:
			p.e, p.sig = describe(s, key, a), sig
		}
		p.gen = d.gen
		entries[i] = p.e
	}
	for k, p := range d.prev {
		if p.gen != d.gen {
			delete(d.prev, k)
		}
	}
	return entries
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
		// snapshot's header, not a second copy of every socket.
		header := *snap
		header.Sockets = nil
		return snapshotMsg{seq: seq, snap: &header, analysis: a, entries: entries, at: now()}
	}
}

func describe(s *sockets.Socket, key sockets.SocketKey, a *sockets.Analysis) *entry {
	info := a.Knowledge().SharedForSocket(s)
	e := &entry{key: key, sock: *s, info: info, risk: sockets.WorstRisk(s, *info, a.Findings(s))}
	if s.IsListening() {
		e.conns = a.Connections(s)
	}
	return e
}

// matches reports whether the row's visible text holds the filter (lower
// case). The text is built only while a filter is set: most of the time
// nobody filters, and 60,000 rows of text would be memory for nothing.
func (e *entry) matches(needle string) bool {
	s := &e.sock
	for _, f := range []string{s.ProtoLabel(), s.State, s.LocalEndpoint(), s.RemoteEndpoint(),
		strconv.Itoa(int(s.LPort)), e.info.Name, s.OwnerPIDs(), string(s.Direction), exposureWord(s), e.risk.String(), s.Netns} {
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
