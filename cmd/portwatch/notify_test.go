//go:build linux

package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// notifySocket is a fake systemd: the unixgram socket NOTIFY_SOCKET names,
// bound by the test, and the datagrams watch sends it.
type notifySocket struct {
	path string
	conn *net.UnixConn
	msgs chan string
}

func newNotifySocket(t *testing.T) *notifySocket {
	t.Helper()
	path := filepath.Join(t.TempDir(), "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	n := &notifySocket{path: path, conn: conn, msgs: make(chan string, 1000)}
	t.Cleanup(func() { conn.Close() })
	go func() {
		buf := make([]byte, 4096)
		for {
			k, err := conn.Read(buf)
			if err != nil {
				close(n.msgs)
				return
			}
			n.msgs <- string(buf[:k])
		}
	}()
	return n
}

// next returns the next datagram that is not WATCHDOG=1 alone, counting
// those it skips; it fails the test after timeout.
func (n *notifySocket) next(t *testing.T, timeout time.Duration, watchdogs *int) string {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case m := <-n.msgs:
			if m == "WATCHDOG=1\n" {
				*watchdogs++
				continue
			}
			return m
		case <-deadline:
			t.Fatalf("no notification within %s", timeout)
			return ""
		}
	}
}

// TestWatchNotifiesSystemd: the real binary, under a fake NOTIFY_SOCKET and
// WATCHDOG_USEC, says READY=1 only once its first poll is served on
// /metrics, feeds the watchdog after every poll, answers SIGHUP with
// RELOADING=1 and a MONOTONIC_USEC of now then READY=1, and says
// STOPPING=1 on SIGTERM.
func TestWatchNotifiesSystemd(t *testing.T) {
	sd := newNotifySocket(t)
	metricsPort := freePort(t)
	cmd := exec.Command(sharedBinary(t), "watch", "--interval", "200ms", "--metrics-addr", strconv.Itoa(metricsPort), "--log", filepath.Join(t.TempDir(), "events.jsonl"))
	cmd.Env = append(os.Environ(), "NOTIFY_SOCKET="+sd.path, "WATCHDOG_USEC=2000000")
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() { cmd.Process.Kill(); <-done })

	watchdogs := 0
	if m := sd.next(t, 30*time.Second, &watchdogs); !strings.HasPrefix(m, "READY=1\n") {
		t.Fatalf("first notification %q, want READY=1", m)
	}
	// Ready means the first poll is there to scrape.
	body, err := httpGet(fmt.Sprintf("http://127.0.0.1:%d/metrics", metricsPort))
	if err != nil || !strings.Contains(body, "portwatch_last_poll_timestamp_seconds ") {
		t.Fatalf("at READY=1, /metrics: %v\n%.500s", err, body)
	}
	// Polls go on, and each feeds the watchdog.
	waitFor(t, 5*time.Second, "three WATCHDOG=1", func() (bool, string) {
		for {
			select {
			case m := <-sd.msgs:
				if m != "WATCHDOG=1\n" {
					return false, "unexpected " + m
				}
				watchdogs++
				continue
			default:
			}
			break
		}
		return watchdogs >= 3, fmt.Sprintf("%d", watchdogs)
	})

	var before unix.Timespec
	unix.ClockGettime(unix.CLOCK_MONOTONIC, &before)
	cmd.Process.Signal(syscall.SIGHUP)
	m := sd.next(t, 5*time.Second, &watchdogs)
	var after unix.Timespec
	unix.ClockGettime(unix.CLOCK_MONOTONIC, &after)
	var usec int64
	if _, err := fmt.Sscanf(m, "RELOADING=1\nMONOTONIC_USEC=%d\n", &usec); err != nil {
		t.Fatalf("after SIGHUP: %q, want RELOADING=1 and MONOTONIC_USEC", m)
	}
	if usec < before.Nano()/1000 || usec > after.Nano()/1000 {
		t.Errorf("MONOTONIC_USEC=%d, not between %d and %d (CLOCK_MONOTONIC around the SIGHUP)", usec, before.Nano()/1000, after.Nano()/1000)
	}
	if m := sd.next(t, 5*time.Second, &watchdogs); !strings.HasPrefix(m, "READY=1\n") {
		t.Errorf("after RELOADING=1: %q, want READY=1", m)
	}

	cmd.Process.Signal(syscall.SIGTERM)
	if m := sd.next(t, 5*time.Second, &watchdogs); m != "STOPPING=1\n" {
		t.Errorf("after SIGTERM: %q, want STOPPING=1", m)
	}
	select {
	case err := <-done:
		done <- err
		if err != nil {
			t.Errorf("watch: %v\n%s", err, stderr)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("watch still running 5 s after SIGTERM")
	}
}

// TestWatchWithoutWatchdogSendsNone: with NOTIFY_SOCKET but no
// WATCHDOG_USEC (or one meant for another pid), watch never sends
// WATCHDOG=1, which systemd would count against a unit without WatchdogSec.
func TestWatchWithoutWatchdogSendsNone(t *testing.T) {
	sd := newNotifySocket(t)
	metricsPort := freePort(t)
	cmd := exec.Command(sharedBinary(t), "watch", "--interval", "100ms", "--metrics-addr", strconv.Itoa(metricsPort), "--log", filepath.Join(t.TempDir(), "events.jsonl"))
	cmd.Env = append(os.Environ(), "NOTIFY_SOCKET="+sd.path, "WATCHDOG_USEC=1000000", "WATCHDOG_PID=1")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() { cmd.Process.Kill(); <-done })
	watchdogs := 0
	if m := sd.next(t, 30*time.Second, &watchdogs); !strings.HasPrefix(m, "READY=1\n") {
		t.Fatalf("first notification %q, want READY=1", m)
	}
	// Five more polls, then SIGTERM: STOPPING=1 is the next datagram.
	seen := map[string]bool{}
	waitFor(t, 10*time.Second, "five polls", func() (bool, string) {
		body, err := httpGet(fmt.Sprintf("http://127.0.0.1:%d/metrics", metricsPort))
		if err != nil {
			return false, err.Error()
		}
		mfs, err := parseMetrics(body)
		if err != nil {
			return false, err.Error()
		}
		v, _ := gaugeValue(mfs, "portwatch_last_poll_timestamp_seconds")
		seen[fmt.Sprint(v)] = true
		return len(seen) > 5, fmt.Sprintf("%d polls seen", len(seen))
	})
	cmd.Process.Signal(syscall.SIGTERM)
	if m := sd.next(t, 5*time.Second, &watchdogs); m != "STOPPING=1\n" || watchdogs != 0 {
		t.Errorf("got %q after %d WATCHDOG=1; want STOPPING=1 and none", m, watchdogs)
	}
}
