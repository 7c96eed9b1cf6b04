//go:build linux

package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const grafanaDashboard = "../../deploy/grafana/portwatch.json"

// dashboard is what the test reads of the Grafana dashboard.
type dashboard struct {
	Title  string `json:"title"`
	Panels []struct {
		ID      int    `json:"id"`
		Title   string `json:"title"`
		GridPos struct {
			X, Y, W, H int
		} `json:"gridPos"`
		Targets []struct {
			RefID string `json:"refId"`
			Expr  string `json:"expr"`
		} `json:"targets"`
	} `json:"panels"`
	Templating struct {
		List []struct {
			Name       string `json:"name"`
			Definition string `json:"definition"`
		} `json:"list"`
	} `json:"templating"`
}

// grafanaVars are the dashboard's variables as the test sets them: every
// job and instance, and the rate interval Grafana would pick at a 1 s
// scrape.
var grafanaVars = strings.NewReplacer("$job", ".*", "$instance", ".*", "$__rate_interval", "1m")

// TestGrafanaDashboard: every panel query of deploy/grafana/portwatch.json
// runs against a real Prometheus scraping a real watch, and answers with
// at least one series: no panel of the dashboard is empty on a machine
// with a baseline, an unexpected listener and traffic. The variables'
// label_values queries name this watch's job and instance.
func TestGrafanaDashboard(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Prometheus")
	}
	needTool(t, "prometheus", "prometheus")
	text, err := os.ReadFile(grafanaDashboard)
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(text, &d); err != nil {
		t.Fatalf("the dashboard is not JSON: %v", err)
	}
	ids := map[int]bool{}
	for _, p := range d.Panels {
		if ids[p.ID] || len(p.Targets) == 0 || p.GridPos.X+p.GridPos.W > 24 || p.GridPos.W == 0 || p.GridPos.H == 0 {
			t.Errorf("panel %d %q: a repeated id, no query, or outside the 24-column grid (%+v)", p.ID, p.Title, p.GridPos)
		}
		ids[p.ID] = true
	}

	// The machine: a baseline that expects every listener but one port,
	// a listener of this test there, and bytes moving on loopback.
	dir := t.TempDir()
	ln, port := listenFixed(t)
	base := filepath.Join(dir, "baseline")
	os.WriteFile(base, []byte(fmt.Sprintf("*  tcp  *  1-%d  *  *\n*  tcp  *  %d-65535  *  *\n*  udp  *  *  *  *\n", port-1, port+1)), 0o644)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go io.Copy(c, c)
		}
	}()
	conn, err := net.Dial("tcp4", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		buf := make([]byte, 4096)
		for {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
			conn.Write(buf)
			conn.Read(buf)
		}
	}()
	metricsPort := freePort(t)
	w := startWatch(t, "--interval", "500ms", "--baseline", base, "--metrics-addr", fmt.Sprintf("127.0.0.1:%d", metricsPort), "--log", filepath.Join(dir, "events.jsonl"))
	prom := startPrometheus(t, fmt.Sprintf("  - job_name: portwatch\n    static_configs:\n      - targets: [\"127.0.0.1:%d\"]\n", metricsPort))

	for _, p := range d.Panels {
		for _, target := range p.Targets {
			q := grafanaVars.Replace(target.Expr)
			waitFor(t, 60*time.Second, fmt.Sprintf("panel %q query %s: a result", p.Title, target.RefID), func() (bool, string) {
				res, body, err := prom.query(q)
				return err == nil && len(res) > 0, q + " -> " + body + "\nwatch: " + w.stderrText() + "\nprometheus: " + prom.logText()
			})
		}
	}
	instance := fmt.Sprintf("127.0.0.1:%d", metricsPort)
	for _, v := range d.Templating.List {
		metric, label, ok := strings.Cut(strings.TrimSuffix(strings.TrimPrefix(v.Definition, "label_values("), ")"), ", ")
		if !ok {
			t.Errorf("variable %s: %q is not label_values(METRIC, LABEL)", v.Name, v.Definition)
			continue
		}
		body, err := httpGet(prom.api + "label/" + label + "/values?match[]=" + url.QueryEscape(grafanaVars.Replace(metric)))
		if err != nil || !strings.Contains(body, `"portwatch"`) && !strings.Contains(body, `"`+instance+`"`) {
			t.Errorf("variable %s (%s): %v %s", v.Name, v.Definition, err, body)
		}
	}
}
