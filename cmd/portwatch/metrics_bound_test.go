//go:build linux

package main

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/assess"
	"github.com/portwatch/portwatch/sockets/baseline"
	"github.com/portwatch/portwatch/sockets/traffic"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestListenerSeriesCapped: 6,600 decoy listeners (unexpected against a
// baseline; 600 of them on all interfaces and on ports that sort before
// 4444) and one backdoor on 0.0.0.0:4444 export
// maxListenerSeries listener series, the backdoor among them; the rest are
// counted by (expected, firewall), and portwatch_series_capped says how
// many were held back. The next poll, under the cap, exports every one and
// says 0.
func TestListenerSeriesCapped(t *testing.T) {
	b, err := baseline.Parse(strings.NewReader("host tcp all 22 /usr/bin/sshd root\n"), "/etc/portwatch/baseline")
	if err != nil {
		t.Fatal(err)
	}
	snap := &sockets.Snapshot{Taken: time.Now()}
	for i := range 6000 {
		snap.Sockets = append(snap.Sockets, listener("127.0.0.1", uint16(10000+i), "decoy", "mallory"))
	}
	// Decoys as reachable as the backdoor, on ports that sort before it.
	for i := range 600 {
		snap.Sockets = append(snap.Sockets, listener("0.0.0.0", uint16(1100+i), "decoy", "mallory"))
	}
	snap.Sockets = append(snap.Sockets, listener("0.0.0.0", 4444, "sh", "www-data"))
	e := newExporter()
	e.update(assess.AssessWith(snap, assess.SystemKnowledge(), assess.Context{Baseline: b}), snap, time.Millisecond)
	text := gathered(t, e)
	if n := strings.Count(text, "\nportwatch_listening{"); n != maxListenerSeries {
		t.Errorf("%d portwatch_listening series, want the cap, %d", n, maxListenerSeries)
	}
	if !strings.Contains(text, `portwatch_listening{address="0.0.0.0",expected="no",firewall="none",netns="host",port="4444",program="sh",proto="tcp",user="www-data"} 1`) {
		t.Errorf("the backdoor on 4444 has no series of its own")
	}
	for _, want := range []string{
		fmt.Sprintf(`portwatch_listening_aggregated{expected="no",firewall="none"} %d`, 6601-maxListenerSeries),
		fmt.Sprintf(`portwatch_series_capped{metric="portwatch_listening"} %d`, 6601-maxListenerSeries),
		"portwatch_unexpected_listeners 6601\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the metrics lack %s", want)
		}
	}
	if lines := strings.Count(text, "\n") - strings.Count(text, "\n#"); lines > seriesBound {
		t.Errorf("%d series, more than the documented bound %d", lines, seriesBound)
	}

	snap.Sockets = snap.Sockets[6590:] // ten decoys and the backdoor
	e.update(assess.AssessWith(snap, assess.SystemKnowledge(), assess.Context{Baseline: b}), snap, time.Millisecond)
	text = gathered(t, e)
	if n := strings.Count(text, "\nportwatch_listening{"); n != 11 || strings.Contains(text, "portwatch_listening_aggregated{") ||
		!strings.Contains(text, `portwatch_series_capped{metric="portwatch_listening"} 0`) {
		t.Errorf("under the cap: %d listener series, want 11, no aggregate, capped 0:\n%s", n, text)
	}
}

// seriesBound is the most series watch exports, whatever users do (the
// README says it): the listener cap, the aggregates (4 expected x 7
// firewall words), the programs' two counters with (other), the states,
// the finding codes at every severity, and the dozen single series.
var seriesBound = maxListenerSeries + 4*7 + 2*(maxProgramSeries+1) + 12 + 4*60 + 20

// TestProgramSeriesBounded: 1,000 short-lived programs with random names
// never have more than maxProgramSeries series (the rest of their bytes go
// to (other), and the capped gauge counts them); once they hold no socket
// for programGrace, their series are deleted, (other) too, and a program
// still holding a socket keeps its own. A program holding a listener an
// alert is about gets a series from the reserve when the rest is full.
func TestProgramSeriesBounded(t *testing.T) {
	r := prometheus.NewRegistry()
	capped := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "portwatch_series_capped"}, []string{"metric"})
	r.MustRegister(capped)
	p := newProgramBytes(r, capped)
	now := time.Unix(1700000000, 0)
	alive := map[string]bool{"sshd": true}
	holds := func(name string) bool { return alive[name] }
	noPriority := func(string) bool { return false }
	p.observe(map[string]traffic.Bytes{"sshd": {Sent: 1, Received: 1}}, holds, noPriority, now)
	for i := range 1000 {
		name := fmt.Sprintf("tmp-%08x", uint32(i)*2654435761)
		alive[name] = true
		p.observe(map[string]traffic.Bytes{name: {Sent: 10, Received: 20}}, holds, noPriority, now)
		if n := testutil.CollectAndCount(p.sent); n > maxProgramSeries+1 {
			t.Fatalf("after %d programs: %d series of sent bytes, more than %d and (other)", i+1, n, maxProgramSeries)
		}
		delete(alive, name) // it exits
		now = now.Add(time.Second)
	}
	if got := testutil.ToFloat64(capped.WithLabelValues("portwatch_program_bytes")); got == 0 {
		t.Errorf("portwatch_series_capped for programs is 0 with 1,000 programs")
	}
	// A backdoor's program, new while the places are full, gets one.
	p.observe(map[string]traffic.Bytes{"backdoor": {Sent: 5, Received: 5}}, holds, func(n string) bool { return n == "backdoor" }, now)
	if got := testutil.ToFloat64(p.sent.WithLabelValues("backdoor")); got != 5 {
		t.Errorf("the backdoor's program has no series of its own (%v)", got)
	}
	// A grace later, only sshd's series is left.
	now = now.Add(programGrace)
	p.observe(nil, holds, noPriority, now)
	if n := testutil.CollectAndCount(p.sent); n != 1 || testutil.ToFloat64(p.sent.WithLabelValues("sshd")) != 1 {
		t.Errorf("%d series of sent bytes after every program but sshd exited, want sshd's alone", n)
	}
	if got := testutil.ToFloat64(capped.WithLabelValues("portwatch_program_bytes")); got != 0 {
		t.Errorf("portwatch_series_capped for programs is %v after they all exited, want 0", got)
	}
}

// holdListeners opens n loopback listeners in this process (the watch
// under test reads them as anyone's); closed at the end of the test.
func holdListeners(t *testing.T, n int) []net.Listener {
	t.Helper()
	var ls []net.Listener
	t.Cleanup(func() {
		for _, l := range ls {
			l.Close()
		}
	})
	for range n {
		l, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("listener %d: %v (ulimit -n?)", len(ls)+1, err)
		}
		ls = append(ls, l)
	}
	return ls
}

// vmHWM is a process's peak resident memory, in bytes.
func vmHWM(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.Fields(rest)[0], 10, 64)
			return kb * 1024
		}
	}
	t.Fatal("no VmHWM")
	return 0
}

// TestScrapeFloodIsBounded: issue 23's flood on the real binary: with 5,000
// listeners held by this test and the unit's GOMEMLIMIT, 1,000 scrapes in
// parallel (ten rounds of 100) leave watch's peak RSS under 100 MB (they
// took it to 390 MB and past the unit's MemoryMax before the page), each
// answered at once, with the page or a quick 503; the page is the same
// bytes for every scrape of a poll, and gzipped for a scraper that asks.
func TestScrapeFloodIsBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("5,000 listeners and 1,000 scrapes")
	}
	holdListeners(t, 5000)
	metricsPort := freePort(t)
	cmd := exec.Command(sharedBinary(t), "watch", "--interval", "1s", "--metrics-addr", strconv.Itoa(metricsPort), "--log", filepath.Join(t.TempDir(), "events.jsonl"))
	cmd.Env = append(os.Environ(), "GOMEMLIMIT=192MiB")
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() { cmd.Process.Kill(); <-done })
	url := fmt.Sprintf("http://127.0.0.1:%d/metrics", metricsPort)
	waitFor(t, 30*time.Second, "the first poll's page", func() (bool, string) {
		body, err := httpGet(url)
		return err == nil && strings.Contains(body, "portwatch_series_capped{metric=\"portwatch_listening\"}"), fmt.Sprint(err, stderr)
	})
	before := vmHWM(t, cmd.Process.Pid)

	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 200, DisableCompression: true}}
	var ok, refused, other atomic.Int64
	var slowest atomic.Int64
	for range 10 {
		var wg sync.WaitGroup
		for range 100 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				start := time.Now()
				resp, err := client.Get(url)
				if err != nil {
					other.Add(1)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				switch resp.StatusCode {
				case http.StatusOK:
					ok.Add(1)
				case http.StatusServiceUnavailable:
					refused.Add(1)
				default:
					other.Add(1)
				}
				if d := int64(time.Since(start)); d > slowest.Load() {
					slowest.Store(d)
				}
			}()
		}
		wg.Wait()
	}
	peak := vmHWM(t, cmd.Process.Pid)
	t.Logf("1,000 scrapes: %d pages, %d refused, %d other; slowest %v; peak RSS %d MB before, %d MB after",
		ok.Load(), refused.Load(), other.Load(), time.Duration(slowest.Load()), before>>20, peak>>20)
	if ok.Load() == 0 || other.Load() != 0 {
		t.Errorf("%d pages, %d failures: want pages and nothing but pages or 503", ok.Load(), other.Load())
	}
	if peak > 100<<20 {
		t.Errorf("peak RSS %d MB under 1,000 scrapes, want under 100 MB", peak>>20)
	}

	// One poll, one page: two scrapes within a poll get the same bytes,
	// and the gzipped page is the same text.
	var plain, unzipped []byte
	waitFor(t, 10*time.Second, "two scrapes of one poll", func() (bool, string) {
		a, err1 := httpGet(url)
		req, _ := http.NewRequest("GET", url, nil)
		req.Header.Set("Accept-Encoding", "gzip")
		resp, err2 := client.Do(req)
		if err1 != nil || err2 != nil {
			return false, fmt.Sprint(err1, err2)
		}
		defer resp.Body.Close()
		if resp.Header.Get("Content-Encoding") != "gzip" {
			return false, "no gzip: " + fmt.Sprint(resp.Header)
		}
		zr, err := gzip.NewReader(resp.Body)
		if err != nil {
			return false, err.Error()
		}
		unzipped, _ = io.ReadAll(zr)
		plain = []byte(a)
		return bytes.Equal(plain, unzipped), "the pages differ (a poll between them?)"
	})
	if !bytes.Contains(plain, []byte("portwatch_build_info{")) {
		t.Errorf("the page lacks build info:\n%.300s", plain)
	}
}

// TestPrometheusSampleLimitWithDecoys is issue 23's decoys against a real
// Prometheus: with sample_limit: 5000 on the scrape, a backdoor on
// 0.0.0.0:4444 and 6,000 decoy listeners of this test, the target stays
// up (up = 1: watch exports under the limit), the backdoor's series is in
// Prometheus, and PortwatchSeriesCapped fires.
func TestPrometheusSampleLimitWithDecoys(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Prometheus, 6,000 listeners")
	}
	needTool(t, "prometheus", "prometheus")
	backdoor, err := net.Listen("tcp4", "0.0.0.0:4444")
	if err != nil {
		t.Skipf("4444 is taken on this machine: %v", err)
	}
	defer backdoor.Close()
	holdListeners(t, 6000)
	metricsPort := freePort(t)
	w := startWatch(t, "--interval", "1s", "--metrics-addr", strconv.Itoa(metricsPort), "--log", filepath.Join(t.TempDir(), "events.jsonl"))
	prom := startPrometheus(t, fmt.Sprintf(`  - job_name: portwatch
    sample_limit: 5000
    static_configs:
      - targets: ["127.0.0.1:%d"]
`, metricsPort))
	instance := fmt.Sprintf("127.0.0.1:%d", metricsPort)
	waitFor(t, 60*time.Second, "up 1 and the backdoor's series in Prometheus", func() (bool, string) {
		up, body, err := prom.query(fmt.Sprintf(`up{instance=%q}`, instance))
		if err != nil || len(up) != 1 || up[0].Value[1] != "1" {
			return false, fmt.Sprint(err, body, prom.logText(), w.stderrText())
		}
		bd, body, err := prom.query(fmt.Sprintf(`portwatch_listening{instance=%q,netns="host",port="4444",address="0.0.0.0"}`, instance))
		return err == nil && len(bd) == 1, body
	})
	waitFor(t, 30*time.Second, "PortwatchSeriesCapped firing", func() (bool, string) {
		alerts, body := prom.alerts()
		for _, a := range alerts {
			if a.Labels["alertname"] == "PortwatchSeriesCapped" && a.Labels["instance"] == instance &&
				a.Labels["metric"] == "portwatch_listening" && a.State == "firing" {
				return true, ""
			}
		}
		return false, body
	})
	samples, _, _ := prom.query(fmt.Sprintf(`scrape_samples_scraped{instance=%q}`, instance))
	capped, _, _ := prom.query(fmt.Sprintf(`portwatch_series_capped{instance=%q,metric="portwatch_listening"}`, instance))
	t.Logf("Prometheus scraped %v samples a scrape; portwatch_series_capped %v", samples[0].Value[1], capped[0].Value[1])
}
