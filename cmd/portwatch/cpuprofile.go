package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
)

// memProfileEnv names a file for a heap profile written at the end of the
// run: its alloc_space says what the monitor allocated, all parts counted.
const memProfileEnv = "PORTWATCH_MEMPROFILE"

// cpuProfileEnv names a file for a CPU profile of the whole run: bench/
// scripts profile the monitor as it runs (its drawing, its merges, the
// collector's work), which a benchmark of the poll alone does not see.
const cpuProfileEnv = "PORTWATCH_CPUPROFILE"

// startCPUProfile starts the profile PORTWATCH_CPUPROFILE asks for and
// returns what stops it; a file that cannot be made is one line on stderr
// and no profile, never a failed run.
func startCPUProfile(stderr io.Writer) (stop func()) {
	if path := os.Getenv(memProfileEnv); path != "" {
		runtime.MemProfileRate = 64 << 10
		cpu := startCPUProfileAt(os.Getenv(cpuProfileEnv), stderr)
		return func() {
			cpu()
			writeHeapProfile(path, stderr)
		}
	}
	return startCPUProfileAt(os.Getenv(cpuProfileEnv), stderr)
}

// writeHeapProfile writes the heap profile to path, a file it makes.
func writeHeapProfile(path string, stderr io.Writer) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|os.O_EXCL, 0o600)
	if err != nil {
		fmt.Fprintf(stderr, "portwatch: %s: %v (no profile)\n", memProfileEnv, err)
		return
	}
	defer f.Close()
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		fmt.Fprintf(stderr, "portwatch: %s: %v\n", memProfileEnv, err)
	}
}

func startCPUProfileAt(path string, stderr io.Writer) (stop func()) {
	if path == "" {
		return func() {}
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|os.O_EXCL, 0o600)
	if err != nil {
		fmt.Fprintf(stderr, "portwatch: %s: %v (no profile)\n", cpuProfileEnv, err)
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		fmt.Fprintf(stderr, "portwatch: %s: %v (no profile)\n", cpuProfileEnv, err)
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}
