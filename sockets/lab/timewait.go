//go:build linux

package lab

import (
	"context"
	"errors"
	"fmt"
	"net"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// reclaimTimeWait removes the TIME_WAIT that the connection local->remote
// left, without privilege: it connects again from the same address and port
// to the same peer. On loopback Linux lets a new connection take over a
// TIME_WAIT of the same four addresses once it is a second old
// (net.ipv4.tcp_tw_reuse=2, the default; tcp_tw_reuse_delay), and the new
// connection is then reset, which leaves nothing. The original socket must
// have had SO_REUSEADDR, as the lab's client has. Meanwhile a bind that
// finds the port still taken, or a connect the kernel does not yet let
// through, is tried again, for up to 3 s.
func reclaimTimeWait(ctx context.Context, local, remote string) error {
	la, err := net.ResolveTCPAddr("tcp4", local)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	d := net.Dialer{LocalAddr: la, Control: func(_, _ string, rc syscall.RawConn) error {
		var err error
		rc.Control(func(fd uintptr) {
			err = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
		})
		return err
	}}
	for {
		c, err := d.DialContext(ctx, "tcp4", remote)
		if err == nil {
			c.(*net.TCPConn).SetLinger(0)
			return c.Close()
		}
		// Refused means the TIME_WAIT was taken over and the SYN met no
		// listener: gone all the same.
		if errors.Is(err, syscall.ECONNREFUSED) {
			return nil
		}
		if !errors.Is(err, syscall.EADDRNOTAVAIL) && !errors.Is(err, syscall.EADDRINUSE) {
			return fmt.Errorf("taking over the TIME_WAIT of %s: %w", local, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("taking over the TIME_WAIT of %s: %w", local, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
