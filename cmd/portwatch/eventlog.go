//go:build linux

package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/portwatch/portwatch/sockets/events"
)

// eventLog writes events as JSON lines, one object a line (time, kind,
// risk, netns, proto, address, port, pid, process, exe, user, codes, text),
// for --log and for portwatch watch. Each event is one write(2), with no
// buffer in between: a tail -f sees it at once, and a crash loses none that
// was written. Files are opened with O_APPEND, so several writers and
// logrotate's copytruncate keep whole lines.
type eventLog struct {
	mu   sync.Mutex
	w    io.Writer
	f    *os.File // the --log file, closed by Close; nil for stdout
	name string
}

// openEventLog opens path for appending, creating it (mode 0640: events
// name processes and users) when needed.
func openEventLog(path string) (*eventLog, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("--log %s: %w", path, unwrapPathError(err))
	}
	return &eventLog{w: f, f: f, name: path}, nil
}

// Write writes each event as a line. It serves as tui.Config.OnEvents: the
// monitor shows its error in the status line.
func (l *eventLog) Write(evs []events.Event) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := range evs {
		line, err := json.Marshal(&evs[i])
		if err != nil {
			return fmt.Errorf("event log: %w", err)
		}
		if _, err := l.w.Write(append(line, '\n')); err != nil {
			if l.name != "" {
				return fmt.Errorf("writing events to %s: %w", l.name, unwrapPathError(err))
			}
			return fmt.Errorf("writing events: %w", err)
		}
	}
	return nil
}

// Close syncs and closes a --log file; stdout is left open.
func (l *eventLog) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := l.f.Sync()
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	l.f = nil
	return err
}

// unwrapPathError keeps the reason of an *os.PathError, whose path the
// message names already.
func unwrapPathError(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}
