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
	key    string
	sock   sockets.Socket
	info   sockets.ServiceInfo
	risk   sockets.Risk
	conns  int
	search string // the row's visible text, lower case, for the filter
}

// tickCmd schedules the next tick.
func tickCmd(d time.Duration) tea.Cmd {
	return tea.Tick(d, func(t time.Time) tea.Msg { return tickMsg{at: t} })
}

// pollCmd takes a snapshot off the UI goroutine and describes every socket.
func pollCmd(src sockets.Source, kb *sockets.Knowledge, seq int, timeout time.Duration, now func() time.Time) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		snap, err := src.Snapshot(ctx)
		if err != nil {
			return pollErrorMsg{seq: seq, err: err, at: now()}
		}
		a := sockets.Analyze(snap, kb)
		entries := make([]entry, len(snap.Sockets))
		for i := range snap.Sockets {
			entries[i] = describe(&snap.Sockets[i], a)
		}
		return snapshotMsg{seq: seq, snap: snap, analysis: a, entries: entries, at: now()}
	}
}

func describe(s *sockets.Socket, a *sockets.Analysis) entry {
	info := a.Knowledge().ForSocket(s)
	e := entry{key: s.Key(), sock: *s, info: info, risk: sockets.WorstRisk(s, info, a.Findings(s))}
	if s.IsListening() {
		e.conns = a.Connections(s)
	}
	var b strings.Builder
	for _, f := range []string{s.ProtoLabel(), s.State, s.LocalEndpoint(), s.RemoteEndpoint(),
		strconv.Itoa(int(s.LPort)), info.Name, s.OwnerName(), s.OwnerPIDs(), s.OwnerUser(),
		string(s.Direction), exposureWord(s), e.risk.String()} {
		b.WriteString(strings.ToLower(f))
		b.WriteByte(' ')
	}
	for _, p := range s.Owners[min(1, len(s.Owners)):] { // the other owners too
		b.WriteString(strings.ToLower(p.Name + " " + p.User + " "))
	}
	e.search = b.String()
	return e
}
