//go:build linux

package main

import (
	"io"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/assess"
	"github.com/portwatch/portwatch/sockets/baseline"
	"github.com/portwatch/portwatch/sockets/traffic"
)

// TestReadmeMetricsTable: the README's metrics table names every metric
// watch exports, each with exactly its labels, and no metric it does not
// export. The exporter is driven into every state: a baseline, listeners
// past a lowered cap, program bytes, the scrape server's counter.
func TestReadmeMetricsTable(t *testing.T) {
	section := readmeSection(t, "Running it: interactive, cron, fleet")
	_, table, ok := strings.Cut(section, "\n| metric | labels | value |")
	if !ok {
		t.Fatal("the README has no metrics table")
	}
	table, _, _ = strings.Cut(table, "\n\n")
	documented := map[string][]string{}
	for _, row := range regexp.MustCompile("(?m)^\\| (`[^|]+`) \\|([^|]*)\\|").FindAllStringSubmatch(table, -1) {
		var labels []string
		for _, m := range regexp.MustCompile("`([^`]+)`").FindAllStringSubmatch(row[2], -1) {
			labels = append(labels, m[1])
		}
		slices.Sort(labels)
		for _, m := range regexp.MustCompile("`([^`]+)`").FindAllStringSubmatch(row[1], -1) {
			documented[m[1]] = labels
		}
	}

	b, err := baseline.Parse(strings.NewReader("host tcp all 22 /usr/bin/sshd root\n"), "/etc/portwatch/baseline")
	if err != nil {
		t.Fatal(err)
	}
	snap := &sockets.Snapshot{Taken: time.Now(), Sockets: []sockets.Socket{
		listener("0.0.0.0", 4444, "sh", "www-data"), listener("127.0.0.1", 7000, "decoy", "mallory"), connection(4444, 40000, "ESTABLISHED"),
		listener("0.0.0.0", 6379, "redis-server", "redis"), // a role and a standout: a database reachable
	}}
	e := newExporter()
	e.maxListeners = 1
	newMetricsServer(e.registry)
	bytes := newProgramBytes(e.registry, e.capped)
	e.registry.MustRegister(stdoutEventLog(io.Discard).unwrittenCounter()) // as runWatch registers it
	e.update(assess.AssessWith(snap, assess.SystemKnowledge(), assess.Context{Baseline: b}), snap, time.Millisecond)
	bytes.observe(map[string]traffic.Bytes{"sh": {Sent: 1, Received: 2}}, e.holds, func(string) bool { return false }, time.Now())
	mfs, err := e.registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	exported := map[string]bool{}
	for _, mf := range mfs {
		exported[mf.GetName()] = true
		labels := map[string]bool{}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = true
			}
		}
		var names []string
		for l := range labels {
			names = append(names, l)
		}
		slices.Sort(names)
		want, ok := documented[mf.GetName()]
		switch {
		case !ok:
			t.Errorf("the README's metrics table lacks %s", mf.GetName())
		case !slices.Equal(want, names):
			t.Errorf("the README gives %s the labels %v; it has %v", mf.GetName(), want, names)
		}
	}
	for name := range documented {
		if !exported[name] {
			t.Errorf("the README's metrics table names %s, which watch does not export", name)
		}
	}
}
