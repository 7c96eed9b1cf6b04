// Command pollbench measures, in one run, the CPU that one portwatch poll
// costs (every owner mapped, steady state) against `ss -tanp` and `ss -tan`,
// and prints the ratios. Medians of -runs measurements each.
//
// Usage: pollbench -runs 15
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"syscall"
	"time"

	"github.com/portwatch/portwatch/sockets/collect"
)

func main() {
	runs := flag.Int("runs", 15, "measurements of each")
	flag.Parse()
	if err := run(*runs); err != nil {
		fmt.Fprintln(os.Stderr, "pollbench:", err)
		os.Exit(1)
	}
}

func cpuNow() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func median(d []time.Duration) time.Duration {
	slices.Sort(d)
	return d[len(d)/2]
}

// pollCPU is the CPU of one steady-state poll: the source is warmed up
// first, so its caches are as they are second after second.
func pollCPU(src *collect.Live, runs int) (time.Duration, int, error) {
	ctx := context.Background()
	var rows int
	for i := 0; i < 3; i++ {
		if _, err := src.Snapshot(ctx); err != nil {
			return 0, 0, err
		}
	}
	var d []time.Duration
	for i := 0; i < runs; i++ {
		before := cpuNow()
		snap, err := src.Snapshot(ctx)
		if err != nil {
			return 0, 0, err
		}
		d = append(d, cpuNow()-before)
		rows = len(snap.Sockets)
	}
	return median(d), rows, nil
}

// commandCPU is the CPU (user + system) of running a command to its end.
func commandCPU(runs int, name string, args ...string) (time.Duration, error) {
	var d []time.Duration
	for i := 0; i < runs; i++ {
		cmd := exec.Command(name, args...)
		if err := cmd.Run(); err != nil {
			return 0, fmt.Errorf("%s: %w", name, err)
		}
		d = append(d, cmd.ProcessState.UserTime()+cmd.ProcessState.SystemTime())
	}
	return median(d), nil
}

func run(runs int) error {
	fast := collect.NewLive()
	poll, rows, err := pollCPU(fast, runs)
	if err != nil {
		return err
	}
	ref, _, err := pollCPU(collect.NewReference(), max(runs/3, 3))
	if err != nil {
		return err
	}
	ssp, err := commandCPU(runs, "ss", "-tanp")
	if err != nil {
		return err
	}
	ssn, err := commandCPU(runs, "ss", "-tan")
	if err != nil {
		return err
	}
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	fmt.Printf("socket rows %d · method %s · median of %d\n", rows, fast.Method(), runs)
	fmt.Printf("  portwatch poll       %9.2f ms CPU   %.3fx ss -tanp   %.2fx ss -tan\n", ms(poll), ratio(poll, ssp), ratio(poll, ssn))
	fmt.Printf("  reference poll       %9.2f ms CPU   %.3fx ss -tanp\n", ms(ref), ratio(ref, ssp))
	fmt.Printf("  ss -tanp             %9.2f ms CPU\n", ms(ssp))
	fmt.Printf("  ss -tan              %9.2f ms CPU\n", ms(ssn))
	fmt.Printf("  pollbench max RSS    %9.1f MiB\n", float64(ru.Maxrss)/1024)
	return nil
}

func ms(d time.Duration) float64       { return float64(d.Microseconds()) / 1000 }
func ratio(a, b time.Duration) float64 { return float64(a) / float64(max(b, 1)) }
