//go:build linux

// Command load sets up a socket load on loopback for portwatch's benchmark:
// N established connections with both ends in this process, 100 listeners
// they are spread over, and idle child processes holding a few descriptors
// each. It prints "ready" when all is open and holds everything until it is
// interrupted or its standard input closes; children die with it.
//
// Usage: load -conns 10000 -listeners 100 -idle 300
package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
)

func main() {
	conns := flag.Int("conns", 1000, "established connections (each is two sockets)")
	listeners := flag.Int("listeners", 100, "listeners the connections are spread over")
	idle := flag.Int("idle", 300, "idle processes holding a few descriptors")
	flag.Parse()
	if err := run(*conns, *listeners, *idle); err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}

func run(nConns, nListeners, nIdle int) error {
	need := uint64(2*nConns + nListeners + 1000)
	var lim syscall.Rlimit
	syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim)
	if lim.Cur < need {
		lim.Cur = max(need, lim.Cur)
		lim.Max = max(lim.Max, lim.Cur)
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			return fmt.Errorf("raising the descriptor limit to %d: %w", need, err)
		}
	}
	var keep []net.Conn
	var lns []net.Listener
	for i := 0; i < nListeners; i++ {
		ln, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			return err
		}
		lns = append(lns, ln)
	}
	for i := 0; i < nConns; i++ {
		ln := lns[i%len(lns)]
		c, err := net.Dial("tcp4", ln.Addr().String())
		if err != nil {
			return fmt.Errorf("connection %d: %w", i, err)
		}
		s, err := ln.Accept()
		if err != nil {
			return err
		}
		keep = append(keep, c, s)
	}
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		return err
	}
	var children []*exec.Cmd
	defer func() {
		for _, c := range children {
			c.Process.Kill()
			c.Wait()
		}
	}()
	for i := 0; i < nIdle; i++ {
		c := exec.Command("sleep", "86400")
		c.ExtraFiles = []*os.File{devnull, devnull, devnull}
		c.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := c.Start(); err != nil {
			return err
		}
		children = append(children, c)
	}
	fmt.Printf("ready: %d connections (%d sockets), %d listeners, %d idle processes\n", nConns, 2*nConns, nListeners, nIdle)
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	closed := make(chan struct{})
	go func() { buf := make([]byte, 1); os.Stdin.Read(buf); close(closed) }()
	select {
	case <-stop:
	case <-closed:
	}
	// A reset leaves no TIME_WAIT behind to weigh on the next measurement.
	for _, c := range keep {
		c.(*net.TCPConn).SetLinger(0)
		c.Close()
	}
	// Listeners that nothing references are closed by the garbage collector.
	for _, ln := range lns {
		ln.Close()
	}
	return nil
}
