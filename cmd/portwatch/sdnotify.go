//go:build linux

package main

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

// notifier speaks systemd's notify protocol (sd_notify(3)): datagrams of
// KEY=VALUE lines to the unix socket NOTIFY_SOCKET names, which systemd
// sets for a Type=notify or notify-reload service. Outside systemd it is
// nil and every method does nothing. A few lines instead of a library: the
// protocol is one datagram per state.
type notifier struct {
	conn     *net.UnixConn
	watchdog time.Duration // WATCHDOG_USEC, when it is meant for this process
}

// newNotifier connects to NOTIFY_SOCKET, or returns nil when it is unset. A
// name starting with @ is an abstract socket, which net handles.
func newNotifier() (*notifier, error) {
	path := os.Getenv("NOTIFY_SOCKET")
	if path == "" {
		return nil, nil
	}
	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		return nil, fmt.Errorf("NOTIFY_SOCKET %s: %w", path, err)
	}
	n := &notifier{conn: conn}
	if usec, err := strconv.ParseInt(os.Getenv("WATCHDOG_USEC"), 10, 64); err == nil && usec > 0 {
		if pid := os.Getenv("WATCHDOG_PID"); pid == "" || pid == strconv.Itoa(os.Getpid()) {
			n.watchdog = time.Duration(usec) * time.Microsecond
		}
	}
	// Children (none today) must not talk to systemd in our name.
	os.Unsetenv("NOTIFY_SOCKET")
	return n, nil
}

func (n *notifier) send(state string) error {
	if n == nil {
		return nil
	}
	_, err := n.conn.Write([]byte(state))
	return err
}

// ready: the first poll is done and exported.
func (n *notifier) ready() error { return n.send("READY=1\nSTATUS=polling\n") }

// alive: a poll finished; systemd's watchdog is fed only when it asked.
func (n *notifier) alive() error {
	if n == nil || n.watchdog == 0 {
		return nil
	}
	return n.send("WATCHDOG=1\n")
}

// reloading: SIGHUP came; READY=1 follows once the baseline is read again.
// notify-reload wants MONOTONIC_USEC, CLOCK_MONOTONIC now, to tell this
// reload from an earlier one.
func (n *notifier) reloading() error {
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return n.send(fmt.Sprintf("RELOADING=1\nMONOTONIC_USEC=%d\n", ts.Nano()/1000))
}

// stopping: a signal came and watch is ending.
func (n *notifier) stopping() error { return n.send("STOPPING=1\n") }

func (n *notifier) close() {
	if n != nil {
		n.conn.Close()
	}
}
