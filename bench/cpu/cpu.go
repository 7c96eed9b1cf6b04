// Package cpu measures CPU time (user + system) for the bench commands:
// of a function in this process, and of a command run to its end, each as
// the median of several runs, so that the two compare in one run.
package cpu

import (
	"fmt"
	"os/exec"
	"slices"
	"syscall"
	"time"
)

// now is this process's CPU time so far.
func now() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func median(d []time.Duration) time.Duration {
	slices.Sort(d)
	return d[len(d)/2]
}

// Measure is the median CPU of f over runs calls, after three warm-up
// calls (caches as they are second after second), and the count f
// returned last (the sockets it saw).
func Measure(runs int, f func() (int, error)) (time.Duration, int, error) {
	for range 3 {
		if _, err := f(); err != nil {
			return 0, 0, err
		}
	}
	var d []time.Duration
	n := 0
	for range runs {
		before := now()
		got, err := f()
		if err != nil {
			return 0, 0, err
		}
		d = append(d, now()-before)
		n = got
	}
	return median(d), n, nil
}

// Command is the median CPU (user + system) of running a command to its end.
func Command(runs int, name string, args ...string) (time.Duration, error) {
	var d []time.Duration
	for range runs {
		cmd := exec.Command(name, args...)
		if err := cmd.Run(); err != nil {
			return 0, fmt.Errorf("%s: %w", name, err)
		}
		d = append(d, cmd.ProcessState.UserTime()+cmd.ProcessState.SystemTime())
	}
	return median(d), nil
}
