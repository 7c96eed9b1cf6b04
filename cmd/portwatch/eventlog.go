//go:build linux

package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/portwatch/portwatch/sockets/events"
	"github.com/portwatch/portwatch/sockets/safefile"
	"github.com/prometheus/client_golang/prometheus"
)

// eventLog writes events as JSON lines, one object a line, for --log and
// for portwatch watch: portwatch's own (time, kind, risk, netns, proto,
// address, port, pid, process, exe, user, codes, text) or, with
// --log-format ecs, the same event in Elastic Common Schema (ecs.go). Each event is one write(2), with no
// buffer in between: a tail -f sees it at once, a crash loses none that was
// written, and O_APPEND keeps the lines of several writers (and logrotate's
// copytruncate) whole. A write the disk cuts short is taken back, so the
// log holds whole lines only and the next event starts a line of its own;
// every event that could not be written is counted (Unwritten).
type eventLog struct {
	mu      sync.Mutex
	w       io.Writer // stdout, when there is no file
	f       *os.File  // the --log file, closed by Close
	name    string    // the --log path, or "stdout"
	encode  encoder   // one event as one JSON object, in --log-format's schema
	partial bool      // a cut line could not be taken back: start the next on a line of its own
	closed  bool

	unwritten atomic.Uint64
}

// logFormat is --log-format: the schema of the event lines.
type logFormat string

// The formats, as --log-format names them.
const (
	logFormatPortwatch logFormat = "portwatch" // events.Event as it marshals: the README's JSON lines
	logFormatECS       logFormat = "ecs"       // Elastic Common Schema: ecs.go
)

// logFormats are the words --log-format takes, the default first.
var logFormats = []logFormat{logFormatPortwatch, logFormatECS}

// encoder writes one event as one JSON object, without the newline.
type encoder func(e *events.Event) ([]byte, error)

// encoderFor is the encoder of a format; "" is the default.
func encoderFor(f logFormat) encoder {
	if f == logFormatECS {
		return newECSEncoder(observerHostname()).encode
	}
	return func(e *events.Event) ([]byte, error) { return json.Marshal(e) }
}

// openEventLog opens path for appending, as safefile judges it (not a
// link, a FIFO or another user's file: one line says which), creating it
// with mode 0600 when it is not there: events name processes and users.
func openEventLog(path string) (*eventLog, error) {
	f, err := safefile.OpenAppend(path, 0o600)
	if err != nil {
		return nil, fmt.Errorf("--log %s: %w", path, err)
	}
	return &eventLog{f: f, name: path, encode: encoderFor(logFormatPortwatch)}, nil
}

// setFormat makes the lines from now on --log-format's schema.
func (l *eventLog) setFormat(f logFormat) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.encode = encoderFor(f)
}

// stdoutEventLog writes the events to w, watch's stdout. A reader that goes
// away (watch | head) must end watch with a line saying so, not kill it
// silently: Go's runtime dies of SIGPIPE on a broken stdout unless SIGPIPE
// is notified, and then the write fails with EPIPE, which Write returns.
// (Notify rather than Ignore: an ignored signal would be inherited by any
// program portwatch started.)
func stdoutEventLog(w io.Writer) *eventLog {
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
	return &eventLog{w: w, name: "stdout", encode: encoderFor(logFormatPortwatch)}
}

// Write writes each event as a line. It serves as tui.Config.OnEvents: the
// monitor shows its error in the status line. An event that cannot be
// written is counted, and the others are still tried.
func (l *eventLog) Write(evs []events.Event) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	failed := 0
	var first error
	for i := range evs {
		line, err := l.encode(&evs[i])
		if err == nil {
			err = l.writeLine(append(line, '\n'))
		}
		if err == nil {
			continue
		}
		failed++
		if first == nil {
			first = err
		}
		if errors.Is(err, syscall.EPIPE) { // no later event can be written either
			failed += len(evs) - i - 1
			break
		}
	}
	if failed == 0 {
		return nil
	}
	total := l.unwritten.Add(uint64(failed))
	if errors.Is(first, syscall.EPIPE) && l.f == nil {
		first = fmt.Errorf("its reader has gone (%w)", syscall.EPIPE) // watch ends on it
	}
	return fmt.Errorf("writing events to %s: %w (%d of %d not written, %d since the start)",
		l.name, unwrapPathError(first), failed, len(evs), total)
}

// writeLine writes one line: to the file in one write(2), taking back a
// part the disk cut short; to stdout as a whole.
func (l *eventLog) writeLine(line []byte) error {
	if l.w != nil {
		_, err := l.w.Write(line)
		return err
	}
	if l.partial {
		line = append([]byte{'\n'}, line...)
	}
	rc, err := l.f.SyscallConn()
	if err != nil {
		return err
	}
	// One write(2) for the line. Only after a short one (the disk, or a
	// quota, had room for a part) comes a second, for the rest or for the
	// kernel's reason why not.
	done, werr := 0, error(nil)
	if err := rc.Write(func(fd uintptr) bool {
		for done < len(line) && werr == nil {
			n, err := syscall.Write(int(fd), line[done:])
			switch {
			case err == syscall.EINTR:
			case err != nil:
				werr = err
			case n == 0:
				werr = io.ErrShortWrite
			default:
				done += n
			}
		}
		return true
	}); err != nil {
		return err
	}
	if werr == nil {
		l.partial = false
		return nil
	}
	if done == 0 {
		return werr
	}
	// O_APPEND left the offset at the end of the part written: cut it off
	// there, and the log ends with a whole line again.
	end, err := l.f.Seek(0, io.SeekCurrent)
	if err == nil {
		err = l.f.Truncate(end - int64(done))
	}
	if l.partial = err != nil; l.partial {
		return fmt.Errorf("%w; %d bytes of a line stay, not taken back: %w", werr, done, unwrapPathError(err))
	}
	return werr
}

// Unwritten is the number of events that could not be written since the
// log was opened.
func (l *eventLog) Unwritten() uint64 { return l.unwritten.Load() }

// unwrittenCounter exports Unwritten as portwatch_events_unwritten_total.
func (l *eventLog) unwrittenCounter() prometheus.Collector {
	return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "portwatch_events_unwritten_total",
		Help: "Events that could not be written to the log (a full disk, a reader of stdout gone)."},
		func() float64 { return float64(l.Unwritten()) })
}

// Close syncs and closes a --log file; stdout is left open.
func (l *eventLog) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil || l.closed {
		return nil
	}
	l.closed = true
	err := l.f.Sync()
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
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
