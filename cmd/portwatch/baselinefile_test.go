//go:build linux

package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// rawControls reports whether text holds an ESC, a C1 control (as UTF-8 or
// as a lone byte) or a BEL: what a terminal acts on.
func rawControls(text string) bool {
	return strings.ContainsAny(text, "\x1b\x07\u009b\u0090\u009d") || strings.Contains(text, "\x9b")
}

// TestBaselineTextIsCleaned: a baseline line holding raw ESC and C1 bytes
// (a window-title sequence in the program, a C1 CSI in the user) that no
// listener answers: --once's MISSING row and --json's missing entry show
// them as escapes, never raw; a line that does not parse is quoted cleaned.
func TestBaselineTextIsCleaned(t *testing.T) {
	dir := t.TempDir()
	port := freePort(t) // nothing listens there: the line is MISSING
	file := filepath.Join(dir, "baseline")
	os.WriteFile(file, fmt.Appendf(nil, "host tcp loopback %d /usr/bin/\x1b]0;pwned\x07evil \xc2\x9b2Jroot\n", port), 0o644)
	code, out, errOut := runArgs(t, "--once", "--listening", "--baseline", file)
	if code != 1 || rawControls(out) || !strings.Contains(out, `/usr/bin/\x1b]0;pwned\x07evil as \x9b2Jroot; nothing listens`) {
		t.Errorf("--once: exit %d (%q), want 1 and the MISSING row with escapes, no raw controls:\n%q", code, errOut, out)
	}
	code, out, _ = runArgs(t, "--json", "--listening", "--baseline", file)
	var doc struct {
		Baseline struct {
			Missing []struct{ Program, User string } `json:"missing"`
		} `json:"baseline"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil || code != 0 {
		t.Fatalf("--json: exit %d, %v", code, err)
	}
	found := false
	for _, m := range doc.Baseline.Missing {
		if rawControls(m.Program) || rawControls(m.User) {
			t.Errorf("--json's missing entry holds raw controls: %q %q", m.Program, m.User)
		}
		found = found || (m.Program == `/usr/bin/\x1b]0;pwned\x07evil` && m.User == `\x9b2Jroot`)
	}
	if !found || rawControls(out) {
		t.Errorf("--json: the missing entry is not there with its escapes: %+v", doc.Baseline.Missing)
	}

	bad := filepath.Join(dir, "bad")
	os.WriteFile(bad, []byte("host tcp all 22 \"\x1b[2J\xc2\x9b unterminated\n"), 0o644)
	code, out, errOut = runArgs(t, "--once", "--baseline", bad)
	if want := "portwatch: baseline " + bad + `:1: unterminated quoted field ""\x1b[2J\x9b unterminated"` + "\n"; code != 2 || out != "" || errOut != want {
		t.Errorf("a bad line with controls: exit %d, stderr %q; want 2 and %q", code, errOut, want)
	}
}

// TestHugeBaselineIsRefusedAtOnce: a baseline of a million entries (once
// 10.6 s and 2.3 GB for --once) is refused in one line, at once; one of
// 10,001 short lines, under the size bound, too, naming the line.
func TestHugeBaselineIsRefusedAtOnce(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, n int) string {
		path := filepath.Join(dir, name)
		f, _ := os.Create(path)
		w := bufio.NewWriter(f)
		for i := range n {
			fmt.Fprintf(w, "host tcp all %d * *\n", 1+i%65535)
		}
		w.Flush()
		f.Close()
		return path
	}
	million := write("million", 1_000_000)
	start := time.Now()
	code, out, errOut := runArgs(t, "--once", "--baseline", million)
	if want := "portwatch: baseline " + million + ": larger than 4 MiB: a baseline holds at most 10000 entries\n"; code != 2 || out != "" || errOut != want {
		t.Errorf("a million entries: exit %d, stderr %q; want 2 and %q", code, errOut, want)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("refusing a million entries took %s", d)
	}
	over := write("over", 10_001)
	code, _, errOut = runArgs(t, "--once", "--baseline", over)
	if want := "portwatch: baseline " + over + ":10001: more than 10000 entries: a baseline holds at most 10000\n"; code != 2 || errOut != want {
		t.Errorf("10,001 entries: exit %d, stderr %q; want 2 and %q", code, errOut, want)
	}
}

// TestAnyProtocolBaseline: the README allows * in every field; a single
// line of stars expects every listener, TCP and UDP (exit 0). A line with
// the protocol * that nothing answers is MISSING with its protocol written
// *, in --once, --json and watch's missing-listener event.
func TestAnyProtocolBaseline(t *testing.T) {
	listenFixed(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "anything")
	os.WriteFile(file, []byte("*  *  *  *  *  *\n"), 0o644)
	code, out, errOut := runArgs(t, "--once", "--listening", "--baseline", file)
	if want := "BASELINE " + file + " (1 entry): every listener expected, none missing\n"; code != 0 || !strings.HasPrefix(out, want) {
		t.Errorf("--once with * * * * * *: exit %d (stderr %q), want 0 and %q:\n%.300s", code, errOut, want, out)
	}

	port := freePort(t)
	gone := filepath.Join(dir, "gone")
	os.WriteFile(gone, fmt.Appendf(nil, "host  *  loopback  %d  /opt/gone/server  *\n", port), 0o644)
	_, out, _ = runArgs(t, "--once", "--listening", "--baseline", gone)
	if !regexp.MustCompile(`(?m)^(\S+\s+)?MISSING\s+\*\s+loopback\s+` + strconv.Itoa(port) + `\s`).MatchString(out) {
		t.Errorf("--once: no MISSING row with protocol * for port %d:\n%s", port, out)
	}
	if _, out, _ = runArgs(t, "--json", "--listening", "--baseline", gone); !strings.Contains(out, `"proto": "*"`) {
		t.Errorf("--json: the missing entry's proto is not *:\n%.2000s", out)
	}
	if testing.Short() {
		return
	}
	log := filepath.Join(dir, "events.jsonl")
	w := startWatch(t, "--interval", "100ms", "--baseline", gone, "--log", log)
	waitFor(t, 10*time.Second, "the missing-listener event", func() (bool, string) {
		b, _ := os.ReadFile(log)
		evs, _ := readEvents(t, string(b))
		e := findEvent(evs, "missing-listener", port)
		return e != nil && e.Proto == "*", fmt.Sprintf("%+v; stderr %s", e, w.stderrText())
	})
	w.stop(syscall.SIGTERM)
}
