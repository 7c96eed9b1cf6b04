//go:build linux

package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"syscall"
	"time"

	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/clean"
	"github.com/portwatch/portwatch/sockets/collect"
)

// exitPortHeld is watch's exit code when its metrics port is taken: not 1
// (a failure restarting may fix by itself) nor 2 (a mistake in the command
// line), so a unit or a fleet's tooling can tell that something else
// answers scrapes where portwatch should.
const exitPortHeld = 3

// errPortHeld is --metrics-addr's port held by another socket; holder
// names it when portwatch can see who (a process of another user needs
// the unit's capabilities).
type errPortHeld struct {
	addr, holder string
}

func (e errPortHeld) Error() string {
	return fmt.Sprintf("--metrics-addr %s: the port is held by %s, which would answer Prometheus's scrapes in portwatch's place (exit %d)",
		e.addr, e.holder, exitPortHeld)
}

// ExitCode is run's exit code for it.
func (e errPortHeld) ExitCode() int { return exitPortHeld }

// metricsListener is where /metrics is served: the socket systemd passed
// (--metrics-systemd-socket: a .socket unit holds the port across
// restarts, so no one can take it in between), or --metrics-addr bound now.
func metricsListener(o watchSettings) (net.Listener, error) {
	if o.metricsSystemdSocket {
		return systemdListener()
	}
	ln, err := net.Listen("tcp", o.metricsAddr)
	if errors.Is(err, syscall.EADDRINUSE) {
		return nil, errPortHeld{addr: o.metricsAddr, holder: portHolder(o.metricsAddr)}
	}
	if err != nil {
		return nil, fmt.Errorf("--metrics-addr %s: %w", o.metricsAddr, err)
	}
	return ln, nil
}

// errNoSystemdSocket is --metrics-systemd-socket without a socket from
// systemd: a mistake in how watch is started, which restarting will not
// fix, so exit 2 as for the command line's.
type errNoSystemdSocket struct{}

func (errNoSystemdSocket) Error() string {
	return "--metrics-systemd-socket: systemd passed no socket (LISTEN_PID, LISTEN_FDS); start watch from its .socket unit (deploy/systemd/portwatch-watch.socket)"
}

// ExitCode is run's exit code for it.
func (errNoSystemdSocket) ExitCode() int { return 2 }

// listenFDsStart is the first descriptor systemd passes (SD_LISTEN_FDS_START).
const listenFDsStart = 3

// systemdListener takes the first socket systemd passed (sd_listen_fds(3):
// LISTEN_PID is this process, LISTEN_FDS counts descriptors from 3).
func systemdListener() (net.Listener, error) {
	pid, n := os.Getenv("LISTEN_PID"), os.Getenv("LISTEN_FDS")
	defer func() { // not for children
		os.Unsetenv("LISTEN_PID")
		os.Unsetenv("LISTEN_FDS")
		os.Unsetenv("LISTEN_FDNAMES")
	}()
	if count, err := strconv.Atoi(n); pid != strconv.Itoa(os.Getpid()) || err != nil || count < 1 {
		return nil, errNoSystemdSocket{}
	}
	syscall.CloseOnExec(listenFDsStart)
	f := os.NewFile(listenFDsStart, "LISTEN_FD_3")
	defer f.Close() // the listener has its own copy
	ln, err := net.FileListener(f)
	if err != nil {
		return nil, fmt.Errorf("--metrics-systemd-socket: descriptor 3 is not a listening socket: %w", err)
	}
	return ln, nil
}

// portHolder names the process listening on addr's TCP port, read with
// the collector every poll uses; a cleaned name, pid and user.
func portHolder(addr string) string {
	unknown := "a process portwatch cannot see (ss -ltnp says which)"
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return unknown
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	snap, err := collect.NewLive().Snapshot(ctx)
	if err != nil {
		return unknown
	}
	for i := range snap.Sockets {
		s := &snap.Sockets[i]
		if s.Proto != sockets.TCP || !s.IsListening() || s.LPort != ap.Port() || s.Netns != sockets.HostNetns {
			continue
		}
		if s.Local != ap.Addr().Unmap() && !s.Local.IsUnspecified() {
			continue
		}
		if p := s.Process(); p != nil {
			return fmt.Sprintf("%s (pid %d) as %s", clean.Text(p.Name), p.PID, clean.Text(s.OwnerUser()))
		}
		return fmt.Sprintf("a socket of user %s whose process portwatch cannot see", clean.Text(s.OwnerUser()))
	}
	return unknown
}
