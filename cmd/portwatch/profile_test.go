//go:build linux

package main

import (
	"encoding/json"
	"regexp"
	"testing"
	"time"

	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/assess"
)

// --once and --json draw the same server profile: --once's PROFILE line
// is the JSON's summary, from one assessment each of the same machine
// (the machine's listeners may change in between, so both are read twice
// and compared where they agree with themselves).
func TestOnceAndJSONProfile(t *testing.T) {
	listenFixed(t)
	summaries := func() (string, string) {
		_, out, _ := runArgs(t, "--once", "--listening")
		m := regexp.MustCompile(`(?m)^PROFILE: (.*)$`).FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("--once has no PROFILE line:\n%s", out)
		}
		_, js, _ := runArgs(t, "--json")
		var doc struct {
			Profile struct {
				Summary string `json:"summary"`
			} `json:"profile"`
		}
		if err := json.Unmarshal([]byte(js), &doc); err != nil {
			t.Fatal(err)
		}
		return m[1], doc.Profile.Summary
	}
	for try := 0; try < 3; try++ {
		once, js := summaries()
		if once == js && once != "" {
			return
		}
		t.Logf("try %d: --once %q, --json %q", try, once, js)
	}
	t.Error("--once's PROFILE line and --json's profile summary never agreed")
}

// watch exports the profile: a real listener of the test's on all
// interfaces, named by its port as a web server, gives portwatch_server_role
// for the web server, reachable.
func TestWatchExportsTheProfile(t *testing.T) {
	e := newExporter()
	snap := &sockets.Snapshot{Taken: time.Now(), Sockets: []sockets.Socket{listener("0.0.0.0", 443, "nginx", "www-data")}}
	e.update(assess.AssessWith(snap, assess.SystemKnowledge(), assess.Context{}), snap, time.Millisecond)
	mfs, err := e.registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, mf := range mfs {
		if mf.GetName() != "portwatch_server_role" {
			continue
		}
		for _, m := range mf.Metric {
			l := map[string]string{}
			for _, lp := range m.Label {
				l[lp.GetName()] = lp.GetValue()
			}
			found = found || l["role"] == "web server" && l["reachable"] == "yes"
		}
	}
	if !found {
		t.Error("no portwatch_server_role for the web server on 443")
	}
}
