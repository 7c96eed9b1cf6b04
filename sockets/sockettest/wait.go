package sockettest

import (
	"testing"
	"time"
)

// WaitFor calls cond until it reports done, for at most timeout, and fails
// the test with cond's last word if it never does. It is the bounded wait
// that replaces a sleep guessing that the kernel (or a child process) has
// caught up: it returns as soon as the condition holds, and a condition
// that never holds is a failure that says what was seen, not a flake.
//
// cond is called at once, then after 5 ms, the pause doubling up to 100 ms.
func WaitFor(t testing.TB, timeout time.Duration, what string, cond func() (done bool, seen string)) {
	t.Helper()
	if ok, seen := within(timeout, cond); !ok {
		t.Fatalf("%s: not within %s; last seen: %s", what, timeout, seen)
	}
}

// Within is WaitFor without the test: it reports whether cond held within
// timeout, for a caller that fails in its own words (or for whom a
// condition that never comes is an answer).
func Within(timeout time.Duration, cond func() (done bool, seen string)) bool {
	ok, _ := within(timeout, cond)
	return ok
}

// within is Within, with cond's last word.
func within(timeout time.Duration, cond func() (done bool, seen string)) (bool, string) {
	pause := 5 * time.Millisecond
	for deadline := time.Now().Add(timeout); ; {
		done, seen := cond()
		if done {
			return true, seen
		}
		if time.Now().After(deadline) {
			return false, seen
		}
		time.Sleep(min(pause, time.Until(deadline)+time.Millisecond))
		pause = min(2*pause, 100*time.Millisecond)
	}
}
