//go:build linux

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
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/portwatch/portwatch/bench/cpu"
	"github.com/portwatch/portwatch/sockets/collect"
	"github.com/portwatch/portwatch/sockets/poll"
)

func main() {
	runs := flag.Int("runs", 15, "measurements of each")
	profile := flag.String("cpuprofile", "", "write a CPU profile of -profile-polls whole polls (collect, traffic, assess, events) to this file, and measure nothing else")
	profilePolls := flag.Int("profile-polls", 60, "whole polls to profile, a second apart")
	flag.Parse()
	if *profile != "" {
		if err := profileWhole(*profile, *profilePolls); err != nil {
			fmt.Fprintln(os.Stderr, "pollbench:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(*runs); err != nil {
		fmt.Fprintln(os.Stderr, "pollbench:", err)
		os.Exit(1)
	}
}

// pollCPU is the CPU of one steady-state poll, and the sockets it listed.
func pollCPU(src *collect.Live, runs int) (time.Duration, int, error) {
	return cpu.Measure(runs, func() (int, error) {
		snap, err := src.Snapshot(context.Background())
		if err != nil {
			return 0, err
		}
		return len(snap.Sockets), nil
	})
}

// profileWhole profiles whole polls as the monitor and watch make them
// (sockets/poll), one a second, as they run at the default interval.
func profileWhole(path string, polls int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	p := poll.New(poll.Config{Source: collect.NewLive()})
	for range 3 { // learn the machine first
		r, err := p.Poll(context.Background(), nil)
		if err != nil {
			return err
		}
		r.Release()
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		return err
	}
	defer pprof.StopCPUProfile()
	for range polls {
		time.Sleep(time.Second)
		r, err := p.Poll(context.Background(), nil)
		if err != nil {
			return err
		}
		r.Release()
	}
	return nil
}

func run(runs int) error {
	fast := collect.NewLive()
	poll, rows, err := pollCPU(fast, runs)
	if err != nil {
		return err
	}
	whole, _, err := wholeCPU(runs)
	if err != nil {
		return err
	}
	ref, _, err := pollCPU(collect.NewReference(), max(runs/3, 3))
	if err != nil {
		return err
	}
	ssp, err := cpu.Command(runs, "ss", "-tanp")
	if err != nil {
		return err
	}
	ssn, err := cpu.Command(runs, "ss", "-tan")
	if err != nil {
		return err
	}
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	fmt.Printf("socket rows %d · method %s · median of %d\n", rows, fast.Method(), runs)
	fmt.Printf("  portwatch poll       %9.2f ms CPU   %.3fx ss -tanp   %.2fx ss -tan\n", ms(poll), ratio(poll, ssp), ratio(poll, ssn))
	fmt.Printf("  whole poll           %9.2f ms CPU   %.3fx ss -tanp   (collect, traffic, assess, events: what the monitor and watch run)\n", ms(whole), ratio(whole, ssp))
	fmt.Printf("  reference poll       %9.2f ms CPU   %.3fx ss -tanp\n", ms(ref), ratio(ref, ssp))
	fmt.Printf("  ss -tanp             %9.2f ms CPU\n", ms(ssp))
	fmt.Printf("  ss -tan              %9.2f ms CPU\n", ms(ssn))
	fmt.Printf("  pollbench max RSS    %9.1f MiB\n", float64(ru.Maxrss)/1024)
	return nil
}

// wholeCPU is the CPU of one steady-state whole poll, a second after the
// last (the counters' rates need the real time between polls).
func wholeCPU(runs int) (time.Duration, int, error) {
	p := poll.New(poll.Config{Source: collect.NewLive()})
	for range 3 {
		r, err := p.Poll(context.Background(), nil)
		if err != nil {
			return 0, 0, err
		}
		r.Release()
	}
	return cpu.Measure(runs, func() (int, error) {
		r, err := p.Poll(context.Background(), nil)
		if err != nil {
			return 0, err
		}
		n := len(r.Assessment.Verdicts)
		r.Release()
		return n, nil
	})
}

func ms(d time.Duration) float64       { return float64(d.Microseconds()) / 1000 }
func ratio(a, b time.Duration) float64 { return float64(a) / float64(max(b, 1)) }
