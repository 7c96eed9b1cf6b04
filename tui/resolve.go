package tui

import (
	"context"
	"net"
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"
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

// resolveVisible queues the remote addresses of the current tab that have
// no name yet.
func (m *Model) resolveVisible() tea.Cmd {
	if !m.resolve {
		return nil
	}
	for _, t := range m.rows {
		r := t.sock.Remote
		if !r.IsValid() || r.IsUnspecified() {
			continue
		}
		a := r.String()
		if _, done := m.names[a]; done || m.pending[a] {
			continue
		}
		m.pending[a] = true
		m.queue = append(m.queue, a)
	}
	return m.resolveNext()
}

// resolveNext starts queued lookups up to the concurrency limit.
func (m *Model) resolveNext() tea.Cmd {
	var cmds []tea.Cmd
	for m.inflight < maxLookups && len(m.queue) > 0 {
		a := m.queue[0]
		m.queue = m.queue[1:]
		m.inflight++
		lookup := m.cfg.LookupAddr
		cmds = append(cmds, func() tea.Msg {
			ctx, cancel := context.WithTimeout(context.Background(), lookupTimeout)
			defer cancel()
			names, err := lookup(ctx, a)
			if err != nil || len(names) == 0 {
				return resolvedMsg{addr: a}
			}
			return resolvedMsg{addr: a, name: strings.TrimSuffix(names[0], ".")}
		})
	}
	return tea.Batch(cmds...)
}
