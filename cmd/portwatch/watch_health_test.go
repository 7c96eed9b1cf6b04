//go:build linux

package main

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// findingCount is portwatch_findings' value for a code (0 without a series).
func findingCount(t *testing.T, url, code string) (float64, string) {
	body, err := httpGet(url)
	if err != nil {
		return -1, err.Error()
	}
	mfs, err := parseMetrics(body)
	if err != nil {
		return -1, err.Error()
	}
	n := 0.0
	for _, l := range series(mfs, "portwatch_findings") {
		if l["code"] == code {
			v, _ := strconv.ParseFloat(l["__value__"], 64)
			n += v
		}
	}
	return n, ""
}

// TestWatchReportsAStalledConnection: watch runs the same poll as the
// monitor, traffic health included, so a real connection whose peer stops
// reading (its send queue full, nothing acknowledged for five seconds)
// raises send-queue-stuck in portwatch_findings and as an event in the
// log, on the test's own connection.
func TestWatchReportsAStalledConnection(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: waits five seconds for a send queue to count as stuck")
	}
	port := freePort(t)
	dir := t.TempDir()
	logPath := filepath.Join(dir, "events.log")
	w := startWatch(t, "--interval", "200ms", "--metrics-addr", "127.0.0.1:"+strconv.Itoa(port), "--log", logPath)
	url := "http://127.0.0.1:" + strconv.Itoa(port) + "/metrics"
	var before float64
	waitFor(t, 10*time.Second, "watch serving metrics", func() (bool, string) {
		n, why := findingCount(t, url, "send-queue-stuck")
		before = n
		return n >= 0, why + w.stderrText()
	})

	// A server that accepts and never reads, and a client that writes
	// until its send queue holds data the peer cannot take.
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			c.(*net.TCPConn).SetReadBuffer(4096)
			accepted <- c
		}
	}()
	client, err := net.Dial("tcp4", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	server := <-accepted
	defer server.Close()
	client.(*net.TCPConn).SetWriteBuffer(16384)
	chunk := make([]byte, 65536)
	for filled := false; !filled; {
		client.SetWriteDeadline(time.Now().Add(200 * time.Millisecond))
		if _, err := client.Write(chunk); err != nil {
			if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
				t.Fatal(err)
			}
			filled = true // the write blocked: the queue is full
		}
	}
	clientPort := client.LocalAddr().(*net.TCPAddr).Port

	waitFor(t, 20*time.Second, "send-queue-stuck in portwatch_findings and in the log for the test's connection", func() (bool, string) {
		n, why := findingCount(t, url, "send-queue-stuck")
		raw, _ := os.ReadFile(logPath)
		evs, err := readEvents(t, string(raw))
		if err != nil {
			return false, err.Error()
		}
		var ev *eventLine
		for i := range evs {
			if evs[i].Kind == "finding" && evs[i].Port == clientPort && strings.Contains(strings.Join(evs[i].Codes, ","), "send-queue-stuck") {
				ev = &evs[i]
			}
		}
		return n >= before+1 && ev != nil, "metric " + strconv.FormatFloat(n, 'g', -1, 64) + " (before " + strconv.FormatFloat(before, 'g', -1, 64) + ") " + why + "; event found: " + strconv.FormatBool(ev != nil)
	})
	if code := w.stop(syscall.SIGTERM); code != 0 {
		t.Errorf("exit %d after SIGTERM; stderr:\n%s", code, w.stderrText())
	}
}
