//go:build linux

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
	"time"

	"github.com/portwatch/portwatch/bench/cpu"
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
		d, n, err := cpu.Measure(runs, m.f)
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
		d, _, err := cpu.Measure(runs, poll(m.src))
		if err != nil {
			return err
		}
		out = append(out, result{m.name, d})
	}
	for _, args := range [][]string{{"-tanpi"}, {"-tanp"}, {"-tani"}, {"-tan"}} {
		d, err := cpu.Command(runs, "ss", args...)
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
