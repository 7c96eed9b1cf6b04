//go:build linux

package firewall

import (
	"fmt"
	"time"
)

// What reading and evaluating a namespace's ruleset may cost. Any user can make a network
// namespace of their own (unshare -rn) and load rules there, and root's portwatch reads it: a
// ruleset past these bounds is not evaluated, and its verdicts are Unknown with the reason.
const (
	// DefaultMaxRules bounds the rules of a ruleset that is evaluated.
	DefaultMaxRules = 20000
	// DefaultMaxElements bounds the set and map elements of a ruleset that is evaluated (all sets
	// together). The elements of one set arrive in one netlink dump, held whole while it is
	// decoded: the bound is checked after each set.
	DefaultMaxElements = 200000
	// DefaultReadTimeout bounds the time one read of a ruleset may take (the socket's deadline).
	DefaultReadTimeout = 5 * time.Second
)

// ReasonBudget is the reason of an Unknown verdict whose evaluation ran out of steps.
const ReasonBudget = "evaluation budget exceeded"

// Limits bounds the reading of a ruleset. A zero field takes its default.
type Limits struct {
	MaxRules    int
	MaxElements int
	ReadTimeout time.Duration
}

func (l Limits) withDefaults() Limits {
	if l.MaxRules <= 0 {
		l.MaxRules = DefaultMaxRules
	}
	if l.MaxElements <= 0 {
		l.MaxElements = DefaultMaxElements
	}
	if l.ReadTimeout <= 0 {
		l.ReadTimeout = DefaultReadTimeout
	}
	return l
}

// tooLarge is the ruleset that stands for one past the limits: every verdict Unknown, saying which.
func tooLarge(gen uint32, what string, limit int) *Ruleset {
	return &Ruleset{gen: gen, unreadable: fmt.Sprintf("ruleset larger than %d %s, not evaluated", limit, what)}
}

// tooSlow stands for a ruleset whose read ran past the deadline.
func tooSlow(gen uint32, d time.Duration) *Ruleset {
	return &Ruleset{gen: gen, unreadable: fmt.Sprintf("ruleset not read within %s, not evaluated", d)}
}

// overLimit is a read stopped at a limit.
type overLimit struct {
	what  string
	limit int
}

func (e *overLimit) Error() string {
	return fmt.Sprintf("firewall: ruleset larger than %d %s", e.limit, e.what)
}
