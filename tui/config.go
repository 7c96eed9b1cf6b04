package tui

import (
	"context"
	"os"
	"syscall"
	"time"

	"github.com/portwatch/portwatch/sockets"
)

// Config is everything the monitor takes from outside, so the real program
// and the tests build the same model.
type Config struct {
	Source    sockets.Source
	Knowledge *sockets.Knowledge
	Interval  time.Duration
	Hostname  string
	Color     bool
	ReadOnly  bool
	Resolve   bool // start with host names on
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Signal sends a signal to a process; nil means syscall.Kill.
	Signal func(pid int, sig syscall.Signal) error
	// LookupAddr resolves an address to names; nil means the system resolver.
	LookupAddr func(ctx context.Context, addr string) ([]string, error)
	// SelfPID is portwatch's own pid, which K refuses to end; 0 means os.Getpid().
	SelfPID int
}

func (c *Config) setDefaults() {
	if c.Knowledge == nil {
		c.Knowledge = sockets.SystemKnowledge()
	}
	if c.Interval <= 0 {
		c.Interval = time.Second
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Signal == nil {
		c.Signal = func(pid int, sig syscall.Signal) error { return syscall.Kill(pid, sig) }
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
}
