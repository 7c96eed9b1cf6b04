//go:build linux

package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/portwatch/portwatch/sockets/sockettest"
)

// tmuxSession runs the built binary in a detached tmux session of its own
// server, so the test reads the screen a user would see.
type tmuxSession struct {
	t      *testing.T
	socket string
}

func (s *tmuxSession) tmux(args ...string) string {
	s.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-L", s.socket}, args...)...).CombinedOutput()
	if err != nil {
		s.t.Fatalf("tmux %v: %v: %s", args, err, out)
	}
	return string(out)
}

func (s *tmuxSession) screen() string { return s.tmux("capture-pane", "-p", "-t", "pw") }

// waitFor polls the screen until every string is on it, for at most 30 s:
// generous, as it returns as soon as they are, and a loaded machine is slow.
func (s *tmuxSession) waitFor(what ...string) string {
	s.t.Helper()
	var screen string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		screen = s.screen()
		missing := false
		for _, w := range what {
			if !strings.Contains(screen, w) {
				missing = true
			}
		}
		if !missing {
			return screen
		}
	}
	s.t.Fatalf("the screen never showed %q:\n%s", what, screen)
	return ""
}

// TestEndToEndInTmux: a real listener and a real connection, seen through
// the real binary in a real terminal. It filters to its own endpoint before
// it looks for its rows: on a machine with hundreds of other listeners the
// unfiltered first screen need not hold them.
func TestEndToEndInTmux(t *testing.T) {
	sockettest.SkipShort(t, "tmux and the built binary")
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed")
	}
	// 127.0.0.2 is loopback too, so the well-known port is free there.
	ln, err := net.Listen("tcp4", "127.0.0.2:6379")
	if err != nil {
		t.Skipf("cannot listen on 127.0.0.2:6379: %v", err)
	}
	defer ln.Close()
	bin := sharedBinary(t)

	s := &tmuxSession{t: t, socket: fmt.Sprintf("portwatch-e2e-%d", os.Getpid())}
	s.tmux("new-session", "-d", "-s", "pw", "-x", "100", "-y", "30", "env", "NO_COLOR=1", "TERM=xterm-256color", bin)
	defer exec.Command("tmux", "-L", s.socket, "kill-server").Run()

	// The monitor is up (its tab bar is drawn), then only our endpoint.
	s.waitFor("Listening")
	const ours = "127.0.0.2:6379"
	s.tmux("send-keys", "-t", "pw", "/", ours)
	s.tmux("send-keys", "-t", "pw", "Enter")
	me := fmt.Sprint(os.Getpid())
	// "row 1 of 1": the filter, applied with enter, left our listener alone.
	s.waitFor(ours, "redis", me, "a service in disguise?", "row 1 of 1")

	client, _ := sockettest.Connect(t, ln)
	s.tmux("send-keys", "-t", "pw", "2")
	_, cport, _ := net.SplitHostPort(client.LocalAddr().String())
	// Both ends of our connection, and nothing else: both have our endpoint.
	screen := s.waitFor("[2 Estab", ours, "127.0.0.1:"+cport, "row 1 of 2")
	for _, dir := range []string{" in ", " out "} {
		if !strings.Contains(screen, dir) {
			t.Errorf("no %q direction on:\n%s", dir, screen)
		}
	}
	s.tmux("send-keys", "-t", "pw", "q")
	waitFor(t, 5*time.Second, "q ending the program and its session", func() (bool, string) {
		return exec.Command("tmux", "-L", s.socket, "has-session", "-t", "pw").Run() != nil, "the session still runs"
	})
}

func TestMonitorWithoutTerminalIsAOneLineError(t *testing.T) {
	sockettest.SkipShort(t, "the built binary")
	bin := sharedBinary(t)
	cmd := exec.Command(bin)
	out, err := cmd.CombinedOutput()
	if err == nil || cmd.ProcessState.ExitCode() != 1 {
		t.Fatalf("exit %v, want 1", err)
	}
	if strings.Count(string(out), "\n") != 1 || !strings.Contains(string(out), "needs a terminal") {
		t.Errorf("output %q", out)
	}
}

// TestMonitorBaselineAndLog: the monitor, in a real terminal, compares the
// listeners with --baseline (a listener of this test's on a port the
// baseline does not expect is UNEXPECTED on screen) and appends the events
// to --log as JSON lines, the unexpected-listener event among them.
func TestMonitorBaselineAndLog(t *testing.T) {
	sockettest.SkipShort(t, "tmux and the built binary")
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed")
	}
	bin := sharedBinary(t)
	dir := t.TempDir()
	_, port := listenFixed(t)
	base, logFile := filepath.Join(dir, "baseline"), filepath.Join(dir, "events.jsonl")
	// Every listener is expected but those on our port.
	os.WriteFile(base, []byte(fmt.Sprintf("*  tcp  *  1-%d  *  *\n*  tcp  *  %d-65535  *  *\n*  udp  *  *  *  *\n", port-1, port+1)), 0o644)
	s := &tmuxSession{t: t, socket: fmt.Sprintf("portwatch-e2e-baseline-%d", os.Getpid())}
	s.tmux("new-session", "-d", "-s", "pw", "-x", "160", "-y", "40", "env", "NO_COLOR=1", "TERM=xterm-256color", bin,
		"--baseline", base, "--log", logFile)
	defer exec.Command("tmux", "-L", s.socket, "kill-server").Run()
	s.tmux("send-keys", "-t", "pw", "/", fmt.Sprint(port))
	s.tmux("send-keys", "-t", "pw", "Enter")
	s.waitFor(fmt.Sprint(port), "UNEXPECTED")
	waitFor(t, 30*time.Second, "the unexpected-listener event in --log", func() (bool, string) {
		b, _ := os.ReadFile(logFile)
		evs, err := readEvents(t, string(b))
		if err != nil {
			t.Fatalf("the monitor's --log: %v", err)
		}
		return findEvent(evs, "unexpected-listener", port) != nil, string(b)
	})
	s.tmux("send-keys", "-t", "pw", "q")
}
