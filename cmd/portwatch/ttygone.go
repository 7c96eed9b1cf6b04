//go:build linux

package main

import (
	"errors"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// The monitor's terminal can go without a SIGHUP reaching it: started through runuser or nohup,
// or by a shell that ignores HUP. A hung-up terminal then reads as end of file, which bubbletea
// takes as "no more input" and keeps polling, forever. So the monitor looks at its terminal itself.

// errTerminalGone ends a monitor whose terminal hung up.
var errTerminalGone = errors.New("the terminal is gone (hung up)")

// ttyCheckEvery is how often the monitor looks at its terminal: a poll(2) of no events, which
// costs nothing.
const ttyCheckEvery = 500 * time.Millisecond

// terminalGone says whether any of the descriptors is a terminal that hung up (POLLHUP, POLLERR
// or POLLNVAL: the other end closed, the device is gone, the descriptor was closed).
func terminalGone(files ...*os.File) bool {
	fds := make([]unix.PollFd, len(files))
	for i, f := range files {
		fds[i] = unix.PollFd{Fd: int32(f.Fd())}
	}
	n, err := unix.Poll(fds, 0)
	if err != nil || n == 0 {
		return false
	}
	for _, p := range fds {
		if p.Revents&(unix.POLLHUP|unix.POLLERR|unix.POLLNVAL) != 0 {
			return true
		}
	}
	return false
}

// watchTerminal calls gone once the terminal hangs up, and returns when stop closes.
func watchTerminal(stop <-chan struct{}, gone func(), files ...*os.File) {
	t := time.NewTicker(ttyCheckEvery)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			if terminalGone(files...) {
				gone()
				return
			}
		}
	}
}
