//go:build linux

package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// openPTY opens a real pseudo-terminal pair: the master the test holds, the slave the monitor runs on.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	fd := int(master.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	slave, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.IoctlSetWinsize(int(slave.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 30, Col: 120}); err != nil {
		t.Fatal(err)
	}
	return master, slave
}

// ttyBuffer is what the monitor drew, read while it draws.
type ttyBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *ttyBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *ttyBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// A monitor whose terminal hangs up while SIGHUP is ignored (nohup, runuser, a shell that ignores
// HUP) notices and exits, rather than polling forever.
func TestMonitorExitsWhenItsTerminalIsGone(t *testing.T) {
	bin := sharedBinary(t)
	master, slave := openPTY(t)
	// ignored signals stay ignored across exec: the monitor starts with SIGHUP ignored
	cmd := exec.Command("sh", "-c", `trap "" HUP; exec "$0" --interval 200ms`, bin)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.Env = append(os.Environ(), "TERM=xterm-256color")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	slave.Close()
	exited := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
	var drawn ttyBuffer
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			drawn.Write(buf[:n])
			if err != nil {
				return
			}
		}
	}()
	waitFor(t, 15*time.Second, "the monitor's first screen", func() (bool, string) {
		out := drawn.String()
		return strings.Contains(out, "Listening"), out
	})
	master.Close() // the terminal is gone; no SIGHUP reaches the monitor
	select {
	case <-exited:
		if waitErr == nil {
			t.Error("the monitor exited 0 after its terminal hung up: want a failure")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the monitor still runs 5 s after its terminal hung up")
	}
}
