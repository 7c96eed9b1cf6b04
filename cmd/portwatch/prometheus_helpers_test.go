//go:build linux

package main

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// promServer is a real Prometheus (Debian's) on a loopback port of its
// own, with a temporary configuration and data directory, ended with the
// test.
type promServer struct {
	api string
	log *strings.Builder
	mu  sync.Mutex
}

// startPrometheus runs Prometheus with scrapeConfigs (YAML under
// scrape_configs:), a second's scrape and evaluation interval, and the
// repository's alert rules with every for: at 0s.
func startPrometheus(t *testing.T, scrapeConfigs string) *promServer {
	t.Helper()
	bin := needTool(t, "prometheus", "prometheus")
	dir := t.TempDir()
	rules, err := os.ReadFile(alertRules)
	if err != nil {
		t.Fatal(err)
	}
	rules = regexp.MustCompile(`(?m)^(\s+for:) \S+$`).ReplaceAll(rules, []byte("$1 0s"))
	os.WriteFile(filepath.Join(dir, "rules.yml"), rules, 0o644)
	config := "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files:\n  - rules.yml\nscrape_configs:\n" + scrapeConfigs
	os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(config), 0o644)
	port := freePort(t)
	cmd := exec.Command(bin, "--config.file="+filepath.Join(dir, "prometheus.yml"), "--storage.tsdb.path="+filepath.Join(dir, "data"),
		fmt.Sprintf("--web.listen-address=127.0.0.1:%d", port), "--log.level=warn")
	p := &promServer{api: fmt.Sprintf("http://127.0.0.1:%d/api/v1/", port), log: &strings.Builder{}}
	cmd.Stdout, cmd.Stderr = lockedWriter{&p.mu, p.log}, lockedWriter{&p.mu, p.log}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	return p
}

// promSample is one series of an instant query's answer.
type promSample struct {
	Metric map[string]string `json:"metric"`
	Value  []any             `json:"value"`
}

// query runs an instant query; the body is returned for a failing test.
func (p *promServer) query(q string) ([]promSample, string, error) {
	body, err := httpGet(p.api + "query?query=" + url.QueryEscape(q))
	if err != nil {
		return nil, body, err
	}
	var r struct {
		Status string `json:"status"`
		Data   struct {
			Result []promSample `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(body), &r); err != nil || r.Status != "success" {
		return nil, body, fmt.Errorf("query %s: %v %s", q, err, r.Status)
	}
	return r.Data.Result, body, nil
}

// promAlert is one of Prometheus's alerts.
type promAlert struct {
	Labels map[string]string `json:"labels"`
	State  string            `json:"state"`
}

func (p *promServer) alerts() ([]promAlert, string) {
	body, err := httpGet(p.api + "alerts")
	if err != nil {
		return nil, err.Error()
	}
	var r struct {
		Data struct {
			Alerts []promAlert `json:"alerts"`
		} `json:"data"`
	}
	json.Unmarshal([]byte(body), &r)
	return r.Data.Alerts, body
}

func (p *promServer) logText() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.String()
}

// syncBuffer is a child's stderr that the test may read while it writes.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
