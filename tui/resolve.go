package tui

import (
	"context"
	"net"
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/portwatch/portwatch/sockets/clean"
	"github.com/portwatch/portwatch/tui/rowset"
)

// At most this many reverse lookups run at once; each gets a deadline, so a
// slow resolver only delays names, never a frame.
const (
	maxLookups    = 4
	lookupTimeout = 2 * time.Second
)

func defaultLookupAddr(ctx context.Context, addr string) ([]string, error) {
	return net.DefaultResolver.LookupAddr(ctx, addr)
}

// resolver keeps the host names of remote addresses: asked for in the
// background, a few at a time, each address once.
type resolver struct {
	on       bool
	names    map[string]string // address -> host name ("" = none)
	pending  map[string]bool
	queue    []string
	inflight int
}

func newResolver(on bool) resolver {
	return resolver{on: on, names: map[string]string{}, pending: map[string]bool{}}
}

// want queues the remote addresses of rows that have no name yet, and
// starts lookups.
func (r *resolver) want(rows []*rowset.Row, lookup func(context.Context, string) ([]string, error)) tea.Cmd {
	if !r.on {
		return nil
	}
	for _, row := range rows {
		a := row.Socket.Remote
		if !a.IsValid() || a.IsUnspecified() {
			continue
		}
		s := a.String()
		if _, done := r.names[s]; done || r.pending[s] {
			continue
		}
		r.pending[s] = true
		r.queue = append(r.queue, s)
	}
	return r.next(lookup)
}

// got records an answer and starts the next lookup.
func (r *resolver) got(msg resolvedMsg, lookup func(context.Context, string) ([]string, error)) tea.Cmd {
	r.names[msg.addr] = msg.name
	delete(r.pending, msg.addr)
	r.inflight--
	return r.next(lookup)
}

// next starts queued lookups up to the concurrency limit.
func (r *resolver) next(lookup func(context.Context, string) ([]string, error)) tea.Cmd {
	var cmds []tea.Cmd
	for r.inflight < maxLookups && len(r.queue) > 0 {
		a := r.queue[0]
		r.queue = r.queue[1:]
		r.inflight++
		cmds = append(cmds, func() tea.Msg {
			ctx, cancel := context.WithTimeout(context.Background(), lookupTimeout)
			defer cancel()
			names, err := lookup(ctx, a)
			if err != nil || len(names) == 0 {
				return resolvedMsg{addr: a}
			}
			// A PTR answer is whatever the zone's owner wrote.
			return resolvedMsg{addr: a, name: clean.Text(strings.TrimSuffix(names[0], "."))}
		})
	}
	return tea.Batch(cmds...)
}
