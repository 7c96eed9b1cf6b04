//go:build linux

package main

import (
	"bytes"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/assess"
	"github.com/portwatch/portwatch/sockets/baseline"
	"github.com/portwatch/portwatch/sockets/events"
)

// listener is a hand-made listening socket held by a program.
func listener(addr string, port uint16, prog, user string) sockets.Socket {
	return sockets.Socket{Proto: sockets.TCP, Family: 4, Local: netip.MustParseAddr(addr), Remote: netip.IPv4Unspecified(),
		LPort: port, State: sockets.StateListen, Netns: sockets.HostNetns, Inode: uint64(port), OwnerStatus: sockets.OwnerKnown,
		Owners: []*sockets.Process{{PID: int32(port), Name: prog, Exe: "/usr/bin/" + prog, User: user}}, User: user}
}

func connection(lport, rport uint16, state string) sockets.Socket {
	return sockets.Socket{Proto: sockets.TCP, Family: 4, Local: netip.MustParseAddr("10.0.0.1"), Remote: netip.MustParseAddr("10.0.0.9"),
		LPort: lport, RPort: rport, State: state, Netns: sockets.HostNetns, Inode: uint64(rport) << 16, OwnerStatus: sockets.OwnerNone}
}

// gathered is the exporter's registry as text.
func gathered(t *testing.T, e *exporter) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "m.prom")
	if err := writeTextfile(path, e.registry); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	return string(b)
}

// TestExporterSeries: one poll's metrics, as the exporter's registry gives
// them to /metrics and the textfile: a series per listener with its
// standing against the baseline, the counts of unexpected, changed and
// missing listeners, connections by state, findings by severity and code;
// the next poll's state replaces it whole, so a closed listener's series is
// gone; no remote address is ever a label.
func TestExporterSeries(t *testing.T) {
	b, err := baseline.Parse(strings.NewReader("host tcp loopback 6379 /usr/bin/redis-server redis\nhost tcp all 22 /usr/bin/sshd root\nhost tcp all 5432 /usr/bin/postgres postgres\n"), "/etc/portwatch/baseline")
	if err != nil {
		t.Fatal(err)
	}
	snap := &sockets.Snapshot{Taken: time.Unix(1700000000, 0), Sockets: []sockets.Socket{
		listener("127.0.0.1", 6379, "redis-server", "redis"), // expected
		listener("0.0.0.0", 22, "dropbear", "root"),          // changed
		listener("0.0.0.0", 4444, "nc", "www-data"),          // unexpected
		connection(22, 40001, "ESTABLISHED"), connection(22, 40002, "ESTABLISHED"), connection(22, 40003, "TIME_WAIT"),
	}}
	e := newExporter()
	if text := gathered(t, e); strings.Contains(text, "portwatch_listening{") || !strings.Contains(text, `portwatch_build_info{version="`+version+`"} 1`) {
		t.Errorf("before the first poll: want build info and no state:\n%s", text)
	}
	a := assess.AssessWith(snap, assess.SystemKnowledge(), assess.Context{Baseline: b})
	e.update(a, snap, 25*time.Millisecond)
	text := gathered(t, e)
	for _, want := range []string{
		`portwatch_listening{address="127.0.0.1",expected="yes",firewall="none",netns="host",port="6379",program="redis-server",proto="tcp",user="redis"} 1`,
		`portwatch_listening{address="0.0.0.0",expected="changed",firewall="none",netns="host",port="22",program="dropbear",proto="tcp",user="root"} 1`,
		`portwatch_listening{address="0.0.0.0",expected="no",firewall="none",netns="host",port="4444",program="nc",proto="tcp",user="www-data"} 1`,
		"portwatch_unexpected_listeners 1\n", "portwatch_changed_listeners 1\n", "portwatch_missing_listeners 1\n",
		`portwatch_baseline_entries{path="/etc/portwatch/baseline"} 3`,
		`portwatch_connections{state="ESTABLISHED"} 2`, `portwatch_connections{state="TIME_WAIT"} 1`, `portwatch_connections{state="SYN_SENT"} 0`,
		`portwatch_findings{code="unexpected-listener",severity="HIGH"} 1`, `portwatch_findings{code="changed-listener",severity="HIGH"} 1`,
		`portwatch_findings{code="missing-listener",severity="MEDIUM"} 1`,
		"portwatch_poll_duration_seconds 0.025\n", "portwatch_last_poll_timestamp_seconds 1.7e+09\n",
		"portwatch_poll_errors_total 0\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the metrics lack %s", want)
		}
	}
	if strings.Contains(text, "10.0.0.9") || strings.Contains(text, "40001") || strings.Contains(text, `state="LISTEN"`) {
		t.Errorf("a remote address, a remote port or LISTEN is a label:\n%s", text)
	}

	// The next poll: nc is gone, and no baseline is in use any more.
	snap.Sockets = snap.Sockets[:2]
	e.update(assess.Assess(snap, assess.SystemKnowledge()), snap, time.Millisecond)
	text = gathered(t, e)
	if strings.Contains(text, `port="4444"`) {
		t.Errorf("the closed listener's series is still there:\n%s", text)
	}
	if !strings.Contains(text, `portwatch_listening{address="127.0.0.1",expected="unknown",`) {
		t.Errorf("without a baseline, expected is not unknown:\n%s", text)
	}
	for _, gone := range []string{"portwatch_unexpected_listeners", "portwatch_missing_listeners", "portwatch_baseline_entries"} {
		if strings.Contains(text, gone+" ") || strings.Contains(text, gone+"{") {
			t.Errorf("without a baseline, %s is exported:\n%s", gone, text)
		}
	}
}

// TestWriteTextfileIsAtomic: the textfile is replaced whole, never left
// half written: readers running while it is rewritten hundreds of times
// only ever see a complete file, and no temporary file outlives a write.
func TestWriteTextfileIsAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "portwatch.prom")
	e := newExporter()
	snap := &sockets.Snapshot{Taken: time.Now()}
	for i := range 300 {
		snap.Sockets = append(snap.Sockets, listener("127.0.0.1", uint16(10000+i), "prog", "user"))
	}
	e.update(assess.Assess(snap, assess.SystemKnowledge()), snap, time.Millisecond)
	if err := writeTextfile(path, e.registry); err != nil {
		t.Fatal(err)
	}
	want, _ := os.ReadFile(path)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	var bad error
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if got, err := os.ReadFile(path); err != nil || !bytes.Equal(got, want) {
				bad = fmt.Errorf("a reader saw %d bytes (%v), want the whole %d", len(got), err, len(want))
				return
			}
		}
	}()
	writes := 200
	if testing.Short() {
		writes = 40 // fewer chances for a reader to see a torn file, a fifth of the time
	}
	for range writes {
		if err := writeTextfile(path, e.registry); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	if bad != nil {
		t.Error(bad)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o644 {
		t.Errorf("the textfile's mode is %v, want 0644 (node_exporter reads it as another user)", st.Mode().Perm())
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("the directory holds %d files, want the textfile alone", len(entries))
	}
	// A killed watch's leftover is removed at the next start.
	os.WriteFile(filepath.Join(dir, textfileTempPrefix(path)+"123"), []byte("half"), 0o600)
	if err := prepareTextfile(path); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("a stale temporary file was not removed")
	}
	if err := writeTextfile(filepath.Join(dir, "no-such-dir", "x.prom"), e.registry); err == nil {
		t.Error("writing into a missing directory did not fail")
	}
}

// TestEventLog: --log appends one JSON object per line with exactly the
// event keys, keeps what the file held, and two writers appending to one
// file (O_APPEND) interleave whole lines only; a failed write names the file.
func TestEventLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.jsonl")
	os.WriteFile(path, []byte(`{"time":"2026-01-01T00:00:00Z","kind":"listener-opened","risk":"LOW","netns":"host","proto":"tcp","address":"127.0.0.1","port":1,"codes":[],"text":"before"}`+"\n"), 0o640)
	ev := events.Event{Time: time.Now(), Kind: events.Unexpected, Risk: assess.RiskHigh, Netns: "host", Proto: "tcp", Address: "0.0.0.0",
		Port: 4444, PID: 42, Process: "nc", Exe: "/usr/bin/nc", User: "www-data", Codes: []string{assess.CodeUnexpected}, Text: "not in the baseline: " + strings.Repeat("x", 3000)}
	logs := make([]*eventLog, 2)
	for i := range logs {
		l, err := openEventLog(path)
		if err != nil {
			t.Fatal(err)
		}
		logs[i] = l
	}
	var wg sync.WaitGroup
	for _, l := range logs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 200 {
				if err := l.Write([]events.Event{ev, ev}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	for _, l := range logs {
		if err := l.Close(); err != nil {
			t.Error(err)
		}
	}
	b, _ := os.ReadFile(path)
	evs, err := readEvents(t, string(b))
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 801 || evs[0].Text != "before" || evs[800].Process != "nc" || evs[800].PID != 42 {
		t.Errorf("%d events, first %+v; want the line that was there and 800 whole new ones", len(evs), evs[0])
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o640 {
		t.Errorf("mode %v", st.Mode().Perm())
	}
	// Writing after the file is gone from under it: an error naming it.
	l, _ := openEventLog(path)
	l.f.Close()
	if err := l.Write([]events.Event{ev}); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("a failed write: %v, want an error naming %s", err, path)
	}
	if _, err := openEventLog(filepath.Join(path, "sub")); err == nil || err.Error() != "--log "+path+"/sub: "+path+" is not a directory" {
		t.Errorf("opening a log under a file: %v, want one line naming it", err)
	}
}

// TestExporterCountsMatchARecount: the counts update keeps between polls
// (adjusted where a verdict differs from the last poll's at its index) are
// those of a recount, over random polls that keep, reorder, drop and add
// verdicts, as the assessor and the kernel's order do.
func TestExporterCountsMatchARecount(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var pool []sockets.Socket
	states := []string{"ESTABLISHED", "TIME_WAIT", "CLOSE_WAIT", "SYN_SENT"}
	for i := range 40 {
		pool = append(pool, listener("0.0.0.0", uint16(5000+i), []string{"nc", "sshd", "redis-server"}[i%3], "root"))
	}
	for i := range 400 {
		c := connection(uint16(5000+i%40), uint16(30000+i), states[i%len(states)])
		if i%7 == 0 { // from /tmp: findings on the connection
			c.Owners, c.OwnerStatus = []*sockets.Process{{PID: 9, Name: "x", Exe: "/tmp/x", User: "root"}}, sockets.OwnerKnown
		}
		pool = append(pool, c)
	}
	verdicts := assess.Assess(&sockets.Snapshot{Sockets: pool}, assess.SystemKnowledge()).Verdicts
	e := newExporter()
	var last []*assess.Verdict
	for poll := range 300 {
		// Most of the last poll, in the same order with a few swaps, some
		// dropped, some others added; now and then a shuffle or nothing.
		var cur []*assess.Verdict
		for _, v := range last {
			if rng.IntN(10) != 0 {
				cur = append(cur, v)
			}
		}
		for range rng.IntN(20) {
			cur = append(cur, verdicts[rng.IntN(len(verdicts))])
		}
		for range rng.IntN(5) {
			i, j := rng.IntN(len(cur)+1), rng.IntN(len(cur)+1)
			if i < len(cur) && j < len(cur) {
				cur[i], cur[j] = cur[j], cur[i]
			}
		}
		switch poll % 50 {
		case 17:
			rng.Shuffle(len(cur), func(i, j int) { cur[i], cur[j] = cur[j], cur[i] })
		case 33:
			cur = nil
		}
		last = cur
		snap := &sockets.Snapshot{Taken: time.Now()}
		for _, v := range cur {
			snap.Sockets = append(snap.Sockets, v.Socket)
		}
		e.update(&assess.Assessment{Verdicts: cur}, snap, time.Millisecond)

		wantConns, wantFindings := map[string]int{}, map[findingKey]int{}
		for _, v := range cur {
			for _, f := range v.Findings {
				wantFindings[findingKey{f.Severity, f.Code}]++
			}
			if !v.Socket.IsListening() {
				wantConns[v.Socket.State]++
			}
		}
		st := e.state.Load()
		for state, n := range st.conns {
			if n != wantConns[state] {
				t.Fatalf("poll %d: %s connections %d, a recount says %d", poll, state, n, wantConns[state])
			}
		}
		if !maps.Equal(st.findings, wantFindings) {
			t.Fatalf("poll %d: findings %v, a recount says %v", poll, st.findings, wantFindings)
		}
		listeners := 0
		for _, v := range cur {
			if v.Socket.IsListening() {
				listeners++
			}
		}
		if len(st.listeners) > listeners || (listeners > 0) != (len(st.listeners) > 0) {
			t.Fatalf("poll %d: %d listener series for %d listeners", poll, len(st.listeners), listeners)
		}
	}
}
