//go:build linux

package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/portwatch/portwatch/sockets/assess"
	"github.com/portwatch/portwatch/sockets/sockettest"
)

// TestMain gives the tests a configuration directory of their own, so that
// a baseline saved in ~/.config/portwatch on this machine changes no test,
// and no test leaves one there. The built binary, run by some tests, inherits it.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "portwatch-test-config-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Setenv("XDG_CONFIG_HOME", dir)
	code := m.Run()
	os.RemoveAll(dir)
	if sharedBin.dir != "" {
		os.RemoveAll(sharedBin.dir)
	}
	os.Exit(code)
}

// sharedBin is the binary built once for the tests that run it as a
// subprocess, in a directory anyone may enter (a test runs it as nobody).
var sharedBin struct {
	once sync.Once
	dir  string
	path string
	err  error
}

func sharedBinary(t *testing.T) string {
	t.Helper()
	sharedBin.once.Do(func() {
		dir, err := os.MkdirTemp("", "portwatch-bin-")
		if err != nil {
			sharedBin.err = err
			return
		}
		sharedBin.dir = dir
		os.Chmod(dir, 0o755)
		sharedBin.path = filepath.Join(dir, "portwatch")
		out, err := exec.Command("go", "build", "-o", sharedBin.path, ".").CombinedOutput()
		if err != nil {
			sharedBin.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if sharedBin.err != nil {
		t.Fatal(sharedBin.err)
	}
	return sharedBin.path
}

// listenFixed listens on 127.0.0.1 on a port outside the kernel's
// ephemeral range, so that a baseline saved meanwhile names that port
// exactly (an ephemeral port would be widened to the whole range, and any
// other listener of this test binary there would match it).
func listenFixed(t *testing.T) (net.Listener, int) {
	t.Helper()
	eph := assess.SystemKnowledge().Ephemeral
	for range 200 {
		p := 10000 + rand.IntN(55536)
		if eph.Contains(uint16(p)) {
			continue
		}
		ln, err := net.Listen("tcp4", "127.0.0.1:"+strconv.Itoa(p))
		if err != nil {
			continue // taken
		}
		t.Cleanup(func() { ln.Close() })
		return ln, p
	}
	t.Fatal("no free port outside the ephemeral range in 200 tries")
	return nil, 0
}

// freePort is a loopback port free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// waitFor calls check until it reports done, for at most timeout; then
// the test fails with check's last word (sockettest.WaitFor).
func waitFor(t *testing.T, timeout time.Duration, what string, check func() (bool, string)) {
	t.Helper()
	sockettest.WaitFor(t, timeout, what, check)
}

// watchProc is a running portwatch watch.
type watchProc struct {
	t      *testing.T
	cmd    *exec.Cmd
	stderr *strings.Builder
	done   chan struct{}
	mu     sync.Mutex
}

// startWatch runs the built binary's watch with args; the test ends it.
func startWatch(t *testing.T, args ...string) *watchProc {
	t.Helper()
	w := &watchProc{t: t, stderr: &strings.Builder{}, done: make(chan struct{})}
	w.cmd = exec.Command(sharedBinary(t), append([]string{"watch"}, args...)...)
	w.cmd.Stderr = lockedWriter{&w.mu, w.stderr}
	if err := w.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { w.cmd.Wait(); close(w.done) }()
	t.Cleanup(func() {
		w.cmd.Process.Kill()
		<-w.done
	})
	return w
}

func (w *watchProc) stderrText() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.stderr.String()
}

// stop sends sig and returns the exit code, failing the test unless the
// program ends within a second.
func (w *watchProc) stop(sig syscall.Signal) int {
	w.t.Helper()
	if err := w.cmd.Process.Signal(sig); err != nil {
		w.t.Fatalf("signal: %v", err)
	}
	select {
	case <-w.done:
		return w.cmd.ProcessState.ExitCode()
	case <-time.After(time.Second):
		w.t.Fatalf("watch still running a second after %v; stderr:\n%s", sig, w.stderrText())
		return -1
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	b  *strings.Builder
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// eventLine is an event as --log writes it.
type eventLine struct {
	Kind    string   `json:"kind"`
	Risk    string   `json:"risk"`
	Netns   string   `json:"netns"`
	Proto   string   `json:"proto"`
	Address string   `json:"address"`
	Port    int      `json:"port"`
	PID     int      `json:"pid"`
	Process string   `json:"process"`
	Exe     string   `json:"exe"`
	User    string   `json:"user"`
	Codes   []string `json:"codes"`
	Text    string   `json:"text"`
	Time    string   `json:"time"`
}

// eventKeys are every key of an event line: required, and optional
// (omitted when no process is known).
var (
	eventKeys         = keySpec{"time": "string", "kind": "string", "risk": "string", "netns": "string", "proto": "string", "address": "string", "port": "number", "codes": "array", "text": "string"}
	eventOptionalKeys = keySpec{"pid": "number", "process": "string", "exe": "string", "user": "string"}
)

// readEvents parses a JSON-lines event log; every line must be one whole
// event with exactly the event keys.
func readEvents(t *testing.T, text string) ([]eventLine, error) {
	t.Helper()
	var out []eventLine
	if text != "" && !strings.HasSuffix(text, "\n") {
		return out, fmt.Errorf("the log does not end with a newline: %q", text[max(0, len(text)-80):])
	}
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for n := 1; sc.Scan(); n++ {
		var raw map[string]any
		if err := json.Unmarshal(sc.Bytes(), &raw); err != nil {
			return out, fmt.Errorf("line %d is not one JSON object: %v: %q", n, err, sc.Text())
		}
		c := &docChecker{}
		c.keys(fmt.Sprintf("event line %d", n), raw, eventKeys, eventOptionalKeys)
		if len(c.problems) > 0 {
			return out, fmt.Errorf("%s", strings.Join(c.problems, "; "))
		}
		var e eventLine
		json.Unmarshal(sc.Bytes(), &e)
		if _, err := time.Parse(time.RFC3339Nano, e.Time); err != nil {
			return out, fmt.Errorf("line %d: time %q is not RFC 3339", n, e.Time)
		}
		out = append(out, e)
	}
	return out, sc.Err()
}

// findEvent returns the first event of kind on port, or nil.
func findEvent(evs []eventLine, kind string, port int) *eventLine {
	for i := range evs {
		if evs[i].Kind == kind && evs[i].Port == port {
			return &evs[i]
		}
	}
	return nil
}

// httpGet fetches a URL's body with a short timeout.
func httpGet(url string) (string, error) {
	c := &http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var b strings.Builder
	_, err = bufio.NewReader(resp.Body).WriteTo(&b)
	if resp.StatusCode != http.StatusOK {
		return b.String(), fmt.Errorf("%s: %s", url, resp.Status)
	}
	return b.String(), err
}
