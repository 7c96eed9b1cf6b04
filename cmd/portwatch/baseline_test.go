//go:build linux

package main

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/portwatch/portwatch/sockets/baseline"
)

// jsonDocOf runs --json with args and decodes it into maps, checking its
// keys with the specification of json_test.go.
func jsonDocOf(t *testing.T, args ...string) map[string]any {
	t.Helper()
	code, out, errOut := runArgs(t, append([]string{"--json"}, args...)...)
	if code != 0 {
		t.Fatalf("--json %q: exit %d: %s", args, code, errOut)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("--json output does not parse: %v", err)
	}
	c := &docChecker{codes: findingCodes(t)}
	c.document(doc)
	for _, p := range c.problems {
		t.Error(p)
	}
	return doc
}

// jsonListener finds the document's TCP listener on 127.0.0.1:port.
func jsonListener(doc map[string]any, port int) map[string]any {
	socks, _ := doc["sockets"].([]any)
	for _, v := range socks {
		s, _ := v.(map[string]any)
		if s["kind"] == "listening" && s["proto"] == "tcp" && s["local_address"] == "127.0.0.1" && s["local_port"] == float64(port) {
			return s
		}
	}
	return nil
}

// savedLine is what baseline save prints when it saved to path: how many,
// where, and, not root, a note on the listeners of other users' programs
// (the machine's, which a test does not choose).
func savedLine(path string) *regexp.Regexp {
	return regexp.MustCompile(`^saved \d+ expected listeners? to ` + regexp.QuoteMeta(path) + `( \(not root: [^\n]*\))?\n$`)
}

// TestBaselineSaveThenUnexpectedAndMissing is the cron story against the
// real machine: save a baseline (portwatch baseline save FILE) while this
// test listens on one port; open a second listener, which --once lists as
// UNEXPECTED in a section before LISTENING (exit code 1) and --json marks
// "unexpected" while the first is "expected"; close the first, which both
// then report MISSING, with the line of the file that expects it.
func TestBaselineSaveThenUnexpectedAndMissing(t *testing.T) {
	kept, keptPort := listenFixed(t)
	file := filepath.Join(t.TempDir(), "baseline")
	code, out, errOut := runArgs(t, "baseline", "save", file)
	if code != 0 || errOut != "" {
		t.Fatalf("baseline save: exit %d, stderr %q", code, errOut)
	}
	if !savedLine(file).MatchString(out) {
		t.Errorf("baseline save printed %q, want one line saying how many and where", out)
	}
	b, err := baseline.Load(file)
	if err != nil {
		t.Fatalf("the saved baseline does not load: %v", err)
	}
	exe, _ := os.Executable()
	var entry *baseline.Entry
	for i := range b.Entries {
		if e := &b.Entries[i]; e.Low == uint16(keptPort) && e.High == uint16(keptPort) && e.Address == baseline.Loopback {
			entry = e
		}
	}
	if entry == nil || entry.Program != exe || entry.Netns != "host" || entry.User == "" || entry.User == baseline.Any {
		t.Fatalf("the baseline's entry for our listener on %d is %+v, want host, loopback, %s and our user", keptPort, entry, exe)
	}

	_, newPort := listenFixed(t)
	code, out, errOut = runArgs(t, "--once", "--baseline", file)
	if code != 1 {
		t.Errorf("--once --baseline with an unexpected listener: exit %d, want 1 (stderr %q)", code, errOut)
	}
	section, _, ok := strings.Cut(out, "\nLISTENING (")
	if !ok || !strings.HasPrefix(section, "BASELINE "+file+" (") {
		t.Fatalf("--once --baseline: want a BASELINE section naming %s before LISTENING:\n%s", file, out)
	}
	row := func(status, proto, addr string, port int) *regexp.Regexp {
		// A NETNS column comes first when a row lives in another namespace.
		return regexp.MustCompile(`(?m)^(?:host\s+)?` + status + `\s+` + proto + `\s+` + regexp.QuoteMeta(addr) + `\s+` + strconv.Itoa(port) + `\s`)
	}
	if !row("UNEXPECTED", "tcp4", "127.0.0.1", newPort).MatchString(section) {
		t.Errorf("the new listener on %d is not UNEXPECTED in:\n%s", newPort, section)
	}
	if strings.Contains(section, " "+strconv.Itoa(keptPort)+" ") {
		t.Errorf("the listener the baseline names (%d) is in the BASELINE section:\n%s", keptPort, section)
	}
	doc := jsonDocOf(t, "--baseline", file)
	if bl, _ := doc["baseline"].(map[string]any); bl == nil || bl["path"] != file {
		t.Errorf(`--json --baseline: "baseline" is %v, want the path %s`, doc["baseline"], file)
	}
	for port, want := range map[int]string{keptPort: "expected", newPort: "unexpected"} {
		if s := jsonListener(doc, port); s == nil || s["baseline"] != want {
			t.Errorf(`--json: our listener on %d: %v, want "baseline": %q`, port, s, want)
		}
	}

	kept.Close()
	code, out, _ = runArgs(t, "--once", "--baseline", file)
	section, _, _ = strings.Cut(out, "\nLISTENING (")
	if code != 1 || !row("MISSING", "tcp", "loopback", keptPort).MatchString(section) ||
		!strings.Contains(section, fmt.Sprintf("line %d: %s as %s; nothing listens", entry.Line, exe, entry.User)) {
		t.Errorf("--once after closing the listener on %d: exit %d, want 1 and a MISSING row naming line %d:\n%s", keptPort, code, entry.Line, section)
	}
	doc = jsonDocOf(t, "--baseline", file)
	missing, _ := doc["baseline"].(map[string]any)["missing"].([]any)
	found := false
	for _, v := range missing {
		m := v.(map[string]any)
		if m["port"] == strconv.Itoa(keptPort) {
			found = true
			want := map[string]any{"netns": "host", "proto": "tcp", "address": "loopback", "program": exe, "user": entry.User, "line": float64(entry.Line)}
			for k, w := range want {
				if m[k] != w {
					t.Errorf("--json missing entry for %d: %q is %v, want %v", keptPort, k, m[k], w)
				}
			}
		}
	}
	if !found {
		t.Errorf("--json: baseline.missing %v lacks port %d", missing, keptPort)
	}
}

// TestOnceBaselineExitCodes: exit 0 when every listener is expected and
// none is missing (a baseline that expects anything anywhere, while this
// test holds a TCP listener and a UDP socket), 1 with a CHANGED listener:
// one on a place the baseline names, held by another program.
func TestOnceBaselineExitCodes(t *testing.T) {
	_, port := listenFixed(t)
	udp, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer udp.Close()
	dir := t.TempDir()
	anything := filepath.Join(dir, "anything")
	os.WriteFile(anything, []byte("# every listener is expected\n*  tcp  *  *  *  *\n*  udp  *  *  *  *\n"), 0o644)
	code, out, errOut := runArgs(t, "--once", "--listening", "--baseline", anything)
	if want := "BASELINE " + anything + " (2 entries): every listener expected, none missing\n\nLISTENING ("; code != 0 || !strings.HasPrefix(out, want) {
		t.Errorf("--once with every listener expected: exit %d (stderr %q), want 0 and output starting %q:\n%s", code, errOut, want, out)
	}
	doc := jsonDocOf(t, "--listening", "--baseline", anything)
	if m := doc["baseline"].(map[string]any)["missing"].([]any); len(m) != 0 {
		t.Errorf("--json: missing %v, want []", m)
	}
	for _, v := range doc["sockets"].([]any) {
		if s := v.(map[string]any); s["baseline"] != "expected" {
			t.Errorf("--json: %v:%v is %v, want expected", s["local_address"], s["local_port"], s["baseline"])
		}
	}

	other := filepath.Join(dir, "other-program")
	os.WriteFile(other, []byte(fmt.Sprintf("host  tcp  loopback  %d  /usr/sbin/sshd  root\n", port)), 0o644)
	code, out, _ = runArgs(t, "--once", "--baseline", other)
	if code != 1 || !regexp.MustCompile(`(?m)^(?:host\s+)?CHANGED\s+tcp4\s+127\.0\.0\.1\s+`+strconv.Itoa(port)+`\s.*line 1: /usr/sbin/sshd as root$`).MatchString(out) {
		t.Errorf("--once with our port expected for sshd: exit %d, want 1 and a CHANGED row naming line 1:\n%s", code, out)
	}
	if s := jsonListener(jsonDocOf(t, "--baseline", other), port); s == nil || s["baseline"] != "changed" {
		t.Errorf(`--json: our listener is %v, want "baseline": "changed"`, s)
	}
}

// TestBadBaselineIsRefused: a baseline that does not parse, or cannot be
// read, is one line naming the file (and the line), exit code 2, nothing on
// stdout, whichever way portwatch runs; the default file too.
func TestBadBaselineIsRefused(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad")
	os.WriteFile(bad, []byte("# fine\nhost tcp all 22 /usr/sbin/sshd root\nhost tcp all ssh * *\n"), 0o644)
	nowhere := filepath.Join(dir, "nowhere")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--once", "--baseline", bad}, "portwatch: baseline " + bad + `:3: port "ssh": want a number from 1 to 65535, a range low-high, or *` + "\n"},
		{[]string{"--json", "--baseline", bad}, "portwatch: baseline " + bad + ":3: "},
		{[]string{"--baseline", bad}, "portwatch: baseline " + bad + ":3: "}, // the monitor: before it looks for a terminal
		{[]string{"watch", "--baseline", bad}, "portwatch: baseline " + bad + ":3: "},
		{[]string{"--once", "--baseline", nowhere}, "portwatch: baseline " + nowhere + ": no such file or directory\n"},
		{[]string{"watch", "--baseline", nowhere}, "portwatch: baseline " + nowhere + ": no such file or directory\n"},
	} {
		code, out, errOut := runArgs(t, c.args...)
		if code != 2 || out != "" || strings.Count(errOut, "\n") != 1 || !strings.HasPrefix(errOut, c.want) {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want 2, nothing, and one line starting %q", c.args, code, out, errOut, c.want)
		}
	}
}

// TestDefaultBaseline: without --baseline, the default file is used when it
// exists (and --once names it), baseline save writes there without a FILE,
// --established reads it not, and a default file that does not parse is
// refused like a named one.
func TestDefaultBaseline(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	def, err := baseline.DefaultPath()
	if err != nil {
		t.Fatal(err)
	}
	_, out, _ := runArgs(t, "--once", "--listening")
	if strings.Contains(out, "BASELINE") {
		t.Errorf("--once without any baseline printed a BASELINE section:\n%s", out)
	}
	if _, out, _ := runArgs(t, "--json"); strings.Contains(out, `"baseline"`) {
		t.Error(`--json without any baseline has "baseline" keys`)
	}
	code, out, errOut := runArgs(t, "baseline", "save")
	if code != 0 || !savedLine(def).MatchString(out) {
		t.Fatalf("baseline save without FILE: exit %d, %q %q; want it saved to %s", code, out, errOut, def)
	}
	_, out, _ = runArgs(t, "--once", "--listening")
	if !strings.HasPrefix(out, "BASELINE "+def+" (") {
		t.Errorf("--once with the default baseline does not name it first:\n%s", out)
	}
	os.WriteFile(def, []byte("nonsense\n"), 0o644)
	if code, _, errOut := runArgs(t, "--once"); code != 2 || !strings.HasPrefix(errOut, "portwatch: baseline "+def+":1: want 6 fields") {
		t.Errorf("--once with a default baseline that does not parse: exit %d, %q; want 2 and the file and line", code, errOut)
	}
	if code, out, errOut := runArgs(t, "--once", "--established"); code != 0 || strings.Contains(out, "BASELINE") {
		t.Errorf("--once --established read the default baseline: exit %d, %q:\n%s", code, errOut, out)
	}
}

// TestBaselineSaveErrors: a file that cannot be written is one line, exit 1.
func TestBaselineSaveErrors(t *testing.T) {
	dir := t.TempDir()
	blocker := filepath.Join(dir, "a-file")
	os.WriteFile(blocker, nil, 0o644)
	code, out, errOut := runArgs(t, "baseline", "save", filepath.Join(blocker, "baseline"))
	if code != 1 || out != "" || strings.Count(errOut, "\n") != 1 || !strings.HasPrefix(errOut, "portwatch: saving the baseline to "+blocker+"/baseline: ") {
		t.Errorf("baseline save under a file: exit %d, stdout %q, stderr %q; want 1 and one line", code, out, errOut)
	}
}
