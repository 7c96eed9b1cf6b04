// Command dumpbench measures, in one run, what asking sock_diag for every
// TCP connection's counters (struct tcp_info) costs: the kernel's dump with
// and without them, a whole portwatch poll with and without them, against
// `ss -tanpi` (ss with its counters), `ss -tanp` and `ss -tan`. CPU (user +
// system), medians of -runs measurements each.
//
// Usage: dumpbench -runs 15
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
		fmt.Fprintln(os.Stderr, "dumpbench:", err)
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

// measure is the median CPU of f, after three warm-up calls.
func measure(runs int, f func() (int, error)) (time.Duration, int, error) {
	n := 0
	for range 3 {
		if _, err := f(); err != nil {
			return 0, 0, err
		}
	}
	var d []time.Duration
	for range runs {
		before := cpuNow()
		got, err := f()
		if err != nil {
			return 0, 0, err
		}
		d = append(d, cpuNow()-before)
		n = got
	}
	return median(d), n, nil
}

// commandCPU is the CPU (user + system) of running a command to its end.
func commandCPU(runs int, name string, args ...string) (time.Duration, error) {
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

func poll(src *collect.Live) func() (int, error) {
	return func() (int, error) {
		snap, err := src.Snapshot(context.Background())
		if err != nil {
			return 0, err
		}
		defer src.Recycle(snap)
		return len(snap.Sockets), nil
	}
}

func run(runs int) error {
	type result struct {
		name string
		cpu  time.Duration
	}
	var out []result
	withInfo, without := collect.NewDumper(true), collect.NewDumper(false)
	// Interleaved, so that a noisy moment weighs on both.
	for _, m := range []struct {
		name string
		f    func() (int, error)
	}{{"dump with counters", withInfo.Dump}, {"dump without", without.Dump}} {
		d, n, err := measure(runs, m.f)
		if err != nil {
			return err
		}
		if len(out) == 0 {
			fmt.Printf("sockets %d · median of %d\n", n, runs)
		}
		out = append(out, result{m.name, d})
	}
	plain := collect.NewLive()
	plain.SetCounters(false)
	for _, m := range []struct {
		name string
		src  *collect.Live
	}{{"poll with counters", collect.NewLive()}, {"poll without", plain}} {
		d, _, err := measure(runs, poll(m.src))
		if err != nil {
			return err
		}
		out = append(out, result{m.name, d})
	}
	for _, args := range [][]string{{"-tanpi"}, {"-tanp"}, {"-tani"}, {"-tan"}} {
		d, err := commandCPU(runs, "ss", args...)
		if err != nil {
			return err
		}
		out = append(out, result{"ss " + args[0], d})
	}
	ref := out[4].cpu // ss -tanpi
	for _, r := range out {
		fmt.Printf("  %-20s %9.2f ms CPU   %.3fx ss -tanpi\n", r.name, float64(r.cpu.Microseconds())/1000, float64(r.cpu)/float64(max(ref, 1)))
	}
	return nil
}
