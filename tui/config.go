package tui

import (
	"context"
	"os"
	"syscall"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/assess"
	"github.com/portwatch/portwatch/sockets/baseline"
	"github.com/portwatch/portwatch/sockets/clean"
	"github.com/portwatch/portwatch/sockets/events"
)

// Config is everything the monitor takes from outside, so the real program
// and the tests build the same model.
type Config struct {
	Source    sockets.Source
	Knowledge *assess.Knowledge
	Interval  time.Duration
	Hostname  string
	Color     bool
	ReadOnly  bool
	Resolve   bool // start with host names on
	// Baseline is what listeners are compared with (UNEXPECTED, CHANGED,
	// MISSING); nil for none. BaselinePath is where b saves one: the
	// --baseline file or the default.
	Baseline     *baseline.Baseline
	BaselinePath string
	// OnEvents receives each poll's events (listeners opened, closed,
	// unexpected, findings that appeared), in the poll command, off the UI
	// goroutine: --log writes them as JSON lines. Its error is shown in the
	// status line, never fatal.
	OnEvents func([]events.Event) error
	// Lab is the scene of portwatch lab, nil otherwise: n (or space) and b
	// walk its steps, each making real sockets, with a narration pane.
	Lab Scene
	// Bell rings the terminal bell when a new unexpected listener appears,
	// through Ring (nil means writing BEL to the terminal).
	Bell bool
	Ring tea.Cmd
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// After delivers msg after d: the monitor's only timers (the poll tick,
	// the check after SIGTERM) go through it. nil means tea.Tick; tests
	// hold the messages and deliver them when they choose.
	After func(d time.Duration, msg tea.Msg) tea.Cmd
	// Signal sends a signal to exactly this process, and to no other: it
	// must check, just before sending, that the pid still belongs to it
	// (start time, executable). The command hands it collect.Signal; nil
	// means ending processes is not offered (as --read-only), so the
	// monitor never reaches the machine by itself.
	Signal func(p sockets.Process, sig syscall.Signal) error
	// LookupAddr resolves an address to names; nil means the system resolver.
	LookupAddr func(ctx context.Context, addr string) ([]string, error)
	// SelfPID is portwatch's own pid, which K refuses to end; 0 means os.Getpid().
	SelfPID int
}

func (c *Config) setDefaults() {
	if c.Knowledge == nil {
		c.Knowledge = assess.SystemKnowledge()
	}
	if c.Interval <= 0 {
		c.Interval = time.Second
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.After == nil {
		c.After = func(d time.Duration, msg tea.Msg) tea.Cmd {
			return tea.Tick(d, func(time.Time) tea.Msg { return msg })
		}
	}
	if c.Ring == nil {
		c.Ring = func() tea.Msg { os.Stdout.WriteString("\a"); return nil }
	}
	if c.Signal == nil {
		c.ReadOnly = true
	}
	if c.LookupAddr == nil {
		c.LookupAddr = defaultLookupAddr
	}
	if c.SelfPID == 0 {
		c.SelfPID = os.Getpid()
	}
	if c.Hostname == "" {
		c.Hostname, _ = os.Hostname()
	}
	c.Hostname = clean.Text(c.Hostname) // anyone with root on the machine names it
}

// Scene is portwatch lab's scene as the monitor drives it: steps that each
// make something real happen. sockets/lab makes it; the command adapts it,
// so the monitor links none of the lab's machinery.
type Scene interface {
	Steps() int
	// Go makes step i happen (0-based) and returns its narration; it does
	// I/O, and is called in a command, one at a time.
	Go(ctx context.Context, i int) (Narration, error)
}

// Narration is what a lab step tells the class, and what to show.
type Narration struct {
	Step, Steps int    // 1-based step number and how many there are
	Title       string // "2. A client connects"
	Text        string // what just happened, and what to look at on screen
	Tab         string // the tab to show: "listening", "established" or "all"
	Filter      string // text that picks out the step's sockets, or ""
}
