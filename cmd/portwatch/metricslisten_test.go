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
)

// TestWatchMetricsPortHeld: a real listener of this test squats the
// metrics port; watch exits 3 at once with one line naming the squatter
// (this test's program and pid), not 1 as for a failure that a restart
// may fix.
func TestWatchMetricsPortHeld(t *testing.T) {
	_, port := listenFixed(t)
	cmd := exec.Command(sharedBinary(t), "watch", "--metrics-addr", fmt.Sprintf("127.0.0.1:%d", port), "--log", filepath.Join(t.TempDir(), "events.jsonl"))
	out, err := cmd.CombinedOutput()
	code := cmd.ProcessState.ExitCode()
	want := fmt.Sprintf("portwatch: --metrics-addr 127.0.0.1:%d: the port is held by portwatch.test (pid %d) as ", port, os.Getpid())
	if code != exitPortHeld || !strings.HasPrefix(string(out), want) || strings.Count(string(out), "\n") != 1 {
		t.Errorf("watch on a held port: exit %d (%v), output %q; want exit %d and one line starting %q", code, err, out, exitPortHeld, want)
	}
}

// TestWatchServesOnSystemdSocket: systemd's socket activation for real: a
// listening socket this test made is passed as descriptor 3 with
// LISTEN_FDS=1 and LISTEN_PID set to watch's own pid (by a shell that
// execs it, as systemd sets it after fork), and watch serves /metrics on
// it, binding nothing of its own. Without the variables, it exits 2 with
// one line.
func TestWatchServesOnSystemdSocket(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	f, err := ln.(*net.TCPListener).File()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command("/bin/sh", "-c", `LISTEN_PID=$$ LISTEN_FDS=1 exec "$0" watch --interval 200ms --metrics-systemd-socket --log "$1"`,
		sharedBinary(t), filepath.Join(t.TempDir(), "events.jsonl"))
	cmd.ExtraFiles = []*os.File{f} // descriptor 3
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() { cmd.Process.Kill(); <-done })
	f.Close()
	ln.Close() // watch's copy is the only one now

	url := "http://" + ln.Addr().String() + "/metrics"
	waitFor(t, 30*time.Second, "metrics on the passed socket", func() (bool, string) {
		body, err := httpGet(url)
		if err != nil {
			return false, err.Error() + "\n" + stderr.String()
		}
		return strings.Contains(body, "portwatch_last_poll_timestamp_seconds "), body
	})
	if !strings.Contains(stderr.String(), "metrics on http://"+ln.Addr().String()+"/metrics") {
		t.Errorf("watch's first line does not name the passed socket:\n%s", stderr)
	}

	// The same flag without systemd's variables.
	bare := exec.Command(sharedBinary(t), "watch", "--metrics-systemd-socket")
	out, _ := bare.CombinedOutput()
	if code := bare.ProcessState.ExitCode(); code != 2 || !strings.Contains(string(out), "systemd passed no socket") {
		t.Errorf("--metrics-systemd-socket without a socket: exit %d, %q; want 2 and a line saying so", code, out)
	}
}
