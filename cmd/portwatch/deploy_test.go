//go:build linux

package main

import (
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/portwatch/portwatch/sockets/sockettest"
)

// The fleet's files, from this package's directory.
const (
	alertRules     = "../../deploy/prometheus/portwatch-alerts.yml"
	alertRuleTests = "../../deploy/prometheus/portwatch-alerts.test.yml"
	systemdUnit    = "../../deploy/systemd/portwatch-watch.service"
	systemdSocket  = "../../deploy/systemd/portwatch-watch.socket"
)

// needTool skips the test when a tool is not installed, saying which
// package brings it.
func needTool(t *testing.T, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s is not installed (apt-get install %s)", name, pkg)
	}
	return p
}

// TestAlertRules: promtool accepts the alert rules, and their unit tests
// (an unexpected listener, a changed one, a missing one, a HIGH finding, a
// watch that stopped polling, a machine without a baseline, a target
// Prometheus cannot scrape, no portwatch metrics at all, a stale textfile,
// a cap on series reached) pass.
func TestAlertRules(t *testing.T) {
	promtool := needTool(t, "promtool", "prometheus")
	sockettest.SkipShort(t, "promtool (Prometheus)")
	if out, err := exec.Command(promtool, "check", "rules", alertRules).CombinedOutput(); err != nil {
		t.Errorf("promtool check rules: %v\n%s", err, out)
	}
	if out, err := exec.Command(promtool, "test", "rules", alertRuleTests).CombinedOutput(); err != nil {
		t.Errorf("promtool test rules: %v\n%s", err, out)
	}
	rules, _ := os.ReadFile(alertRules)
	for _, want := range []string{"portwatch_unexpected_listeners > 0", "portwatch_missing_listeners > 0", `severity="HIGH"`,
		"== 0", "absent(portwatch_build_info)", "time() - portwatch_last_poll_timestamp_seconds", "node_textfile_mtime_seconds", "portwatch_series_capped > 0"} {
		if !strings.Contains(string(rules), want) {
			t.Errorf("the alert rules lack %q", want)
		}
	}
}

// TestSystemdUnit: systemd-analyze verifies the unit (with ExecStart on the
// built binary, as /usr/local/bin/portwatch is not installed here) and
// rates its exposure 2.0 or better ("OK"); the unit runs watch as a dynamic
// user with the two capabilities and nothing else of root's.
//
// verify also loads the machine's units that the targets pull in, and
// prints their warnings too (an unrelated package's unit with MemoryLimit=
// does): only the lines about portwatch's unit are judged. The subtests
// prove it both ways with a real unit that warns, pulled in beside ours: its
// warning is printed and ignored, and a defect in a copy of ours still fails.
func TestSystemdUnit(t *testing.T) {
	analyze := needTool(t, "systemd-analyze", "systemd")
	sockettest.SkipShort(t, "systemd-analyze and the built binary")
	text, err := os.ReadFile(systemdUnit)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"DynamicUser=yes", "CapabilityBoundingSet=CAP_SYS_PTRACE CAP_DAC_READ_SEARCH\n",
		"AmbientCapabilities=CAP_SYS_PTRACE CAP_DAC_READ_SEARCH\n", "NoNewPrivileges=yes", "ProtectSystem=strict",
		"PrivateTmp=yes", "ProtectHome=yes", "ProtectKernelTunables=yes", "ProtectKernelModules=yes", "ProtectKernelLogs=yes",
		"RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK\n", "SystemCallFilter=@system-service",
		"ExecStart=/usr/local/bin/portwatch watch ", "Type=notify\n", "WatchdogSec=30s\n",
	} {
		if !strings.Contains(string(text), want) {
			t.Errorf("the unit lacks %q", want)
		}
	}
	// The unit's own command line parses.
	m := regexp.MustCompile(`(?m)^ExecStart=/usr/local/bin/portwatch (.*)$`).FindStringSubmatch(string(text))
	if m == nil {
		t.Fatal("no ExecStart")
	}
	if _, ran, err := parseSub(strings.Fields(m[1]), newWatchCommand); err != nil || !ran {
		t.Errorf("the unit's command line %q: %v", m[1], err)
	}
	ours := strings.ReplaceAll(string(text), "/usr/local/bin/portwatch", sharedBinary(t))

	t.Run("verify", func(t *testing.T) {
		problems, all, err := verifyUnit(t, analyze, ours)
		if !strings.Contains(all, warningUnit+":") {
			t.Errorf("systemd-analyze verify did not load the other unit that warns, so this test proves nothing about ignoring it:\n%s", all)
		}
		if err != nil || len(problems) > 0 {
			t.Errorf("systemd-analyze verify: %v\n%s\nall it said:\n%s", err, strings.Join(problems, "\n"), all)
		}
	})
	for _, defect := range []struct{ name, from, to string }{
		{"unknown_key", "\nNice=5\n", "\nNice=5\nFrobnicate=yes\n"},
		{"command_not_executable", "ExecStart=" + sharedBinary(t), "ExecStart=/nonexistent/portwatch"},
	} {
		t.Run("defect_"+defect.name, func(t *testing.T) {
			broken := strings.Replace(ours, defect.from, defect.to, 1)
			if broken == ours {
				t.Fatalf("the unit has no %q to break", defect.from)
			}
			if problems, all, err := verifyUnit(t, analyze, broken); err == nil && len(problems) == 0 {
				t.Errorf("a unit with %q passes:\n%s", defect.to, all)
			}
		})
	}

	unit := filepath.Join(t.TempDir(), unitName)
	os.WriteFile(unit, []byte(ours), 0o644)
	out, err := exec.Command(analyze, "security", "--offline=yes", "--no-pager", unit).CombinedOutput()
	score := regexp.MustCompile(`Overall exposure level for portwatch-watch.service: ([0-9.]+) (\S+)`).FindSubmatch(out)
	if err != nil && score == nil {
		t.Skipf("systemd-analyze security --offline is not supported here: %v: %.300s", err, out)
	}
	if score == nil {
		t.Fatalf("systemd-analyze security said:\n%s", out)
	}
	if v, _ := strconv.ParseFloat(string(score[1]), 64); v > 2.0 {
		t.Errorf("systemd-analyze security rates the unit %s %s, want 2.0 or better:\n%s", score[1], score[2], out)
	}
	t.Logf("systemd-analyze security: %s %s", score[1], score[2])
}

// unitName is portwatch's unit; warningUnit is another package's, as
// found on real machines: enabled, and warning about a setting it uses.
const (
	unitName    = "portwatch-watch.service"
	warningUnit = "zz-other-package.service"
	warningText = `[Unit]
Description=another package's service, which makes systemd-analyze warn
[Service]
ExecStart=/bin/true
MemoryLimit=100M
[Install]
WantedBy=sysinit.target
`
)

// verifyUnit runs systemd-analyze verify on the unit text, written to a
// unit directory of the test's own beside warningUnit, enabled there (a
// link in sysinit.target.wants, which every service's default dependencies
// load). It returns the lines about portwatch's unit, everything verify
// said, and its error. The directory is searched first (SYSTEMD_UNIT_PATH
// ending in ":" adds it before the machine's own), so the machine's other
// units are loaded as well: their warnings are in everything, never in the
// lines about ours.
func verifyUnit(t *testing.T, analyze, text string) (ours []string, all string, err error) {
	t.Helper()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, unitName), []byte(text), 0o644)
	os.WriteFile(filepath.Join(dir, warningUnit), []byte(warningText), 0o644)
	os.Mkdir(filepath.Join(dir, "sysinit.target.wants"), 0o755)
	if err := os.Symlink(filepath.Join("..", warningUnit), filepath.Join(dir, "sysinit.target.wants", warningUnit)); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(analyze, "verify", filepath.Join(dir, unitName))
	cmd.Env = append(os.Environ(), "SYSTEMD_UNIT_PATH="+dir+":")
	out, err := cmd.CombinedOutput()
	return linesAbout(string(out), unitName), string(out), err
}

// linesAbout keeps the lines of systemd-analyze's output that name unit:
// "/path/portwatch-watch.service:83: Unknown key ...", "portwatch-watch.service:
// Command ... is not executable".
func linesAbout(out, unit string) []string {
	var keep []string
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, unit) {
			keep = append(keep, line)
		}
	}
	return keep
}

// TestSystemdSocketUnit: systemd-analyze verifies the metrics port's socket
// unit beside the service it starts, and the command line its comment
// gives for the service parses, with --metrics-systemd-socket.
func TestSystemdSocketUnit(t *testing.T) {
	analyze := needTool(t, "systemd-analyze", "systemd")
	text, err := os.ReadFile(systemdSocket)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"ListenStream=127.0.0.1:19273\n", "Service=portwatch-watch.service\n", "Accept=no\n"} {
		if !strings.Contains(string(text), want) {
			t.Errorf("the socket unit lacks %q", want)
		}
	}
	m := regexp.MustCompile(`(?m)^#\s+ExecStart=/usr/local/bin/portwatch (.*)$`).FindStringSubmatch(string(text))
	if m == nil {
		t.Fatal("the socket unit's comment gives no ExecStart")
	}
	if o, ran, err := parseSub(strings.Fields(m[1]), newWatchCommand); err != nil || !ran || !o.metricsSystemdSocket {
		t.Errorf("the socket unit's command line %q: %v, or no --metrics-systemd-socket", m[1], err)
	}
	dir := t.TempDir()
	service, _ := os.ReadFile(systemdUnit)
	os.WriteFile(filepath.Join(dir, "portwatch-watch.service"), []byte(strings.ReplaceAll(string(service), "/usr/local/bin/portwatch", sharedBinary(t))), 0o644)
	os.WriteFile(filepath.Join(dir, "portwatch-watch.socket"), text, 0o644)
	if out, err := exec.Command(analyze, "verify", filepath.Join(dir, "portwatch-watch.socket")).CombinedOutput(); err != nil || aboutUnits(out, dir) != "" {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// aboutUnits is what systemd-analyze said about the units in dir (or
// about portwatch's), leaving out what it says of the machine's other
// units, which it loads too and which are not this test's.
func aboutUnits(out []byte, dir string) string {
	var mine []string
	for _, line := range strings.Split(string(out), "\n") {
		if line != "" && (strings.Contains(line, dir) || strings.Contains(line, "portwatch-watch")) {
			mine = append(mine, line)
		}
	}
	return strings.Join(mine, "\n")
}

// TestTwoCapabilitiesSeeEveryOwner is the unit's claim, on the real
// machine: portwatch run as nobody with CAP_SYS_PTRACE and
// CAP_DAC_READ_SEARCH as its only (ambient) capabilities, and no way to
// gain more, names the owner of a root process's listener, as root would
// (without them, it cannot), and of a listener in another network
// namespace, as a container's, without CAP_SYS_ADMIN.
func TestTwoCapabilitiesSeeEveryOwner(t *testing.T) {
	sockettest.NeedRoot(t, "to drop to nobody")
	setpriv := needTool(t, "setpriv", "util-linux")
	_, port := listenFixed(t) // held by this test, as root
	bin := sharedBinary(t)
	// owner runs portwatch --json as nobody and returns the owner of the
	// TCP listener on 127.0.0.1:port, in this namespace (host) or another.
	owner := func(caps bool, port int, host bool) (status string, pid float64) {
		t.Helper()
		args := []string{"--reuid=nobody", "--regid=nogroup", "--clear-groups", "--no-new-privs"}
		if caps {
			args = append(args, "--inh-caps=-all,+sys_ptrace,+dac_read_search", "--ambient-caps=-all,+sys_ptrace,+dac_read_search",
				"--bounding-set=-all,+sys_ptrace,+dac_read_search")
		} else {
			args = append(args, "--inh-caps=-all", "--ambient-caps=-all", "--bounding-set=-all")
		}
		cmd := exec.Command(setpriv, append(args, bin, "--json", "--listening")...)
		cmd.Dir = "/"
		cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=/nonexistent"}
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("setpriv ... portwatch --json: %v", err)
		}
		var doc map[string]any
		if err := json.Unmarshal(out, &doc); err != nil {
			t.Fatal(err)
		}
		if doc["root"] != false {
			t.Fatalf("portwatch under setpriv says root %v", doc["root"])
		}
		s := jsonListener(doc, port)
		if s == nil || (s["netns"] == "host") != host {
			t.Fatalf("portwatch as nobody does not list the listener on %d (in the host's namespace: %v): %v", port, host, s)
		}
		return s["owner_status"].(string), s["pid"].(float64)
	}
	if status, pid := owner(true, port, true); status != "known" || int(pid) != os.Getpid() {
		t.Errorf("as nobody with the two capabilities: our listener's owner is %s, pid %v; want known, %d", status, pid, os.Getpid())
	}
	if status, _ := owner(false, port, true); status == "known" {
		t.Errorf("as nobody without capabilities, our (root's) listener's owner is known: the test proves nothing")
	}

	// A listener in a network namespace of its own, as a container's: seen,
	// with its owner, without CAP_SYS_ADMIN.
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		t.Skip("unshare is not installed (util-linux): no namespace to look into")
	}
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 is not installed")
	}
	inner := exec.Command(unshare, "-n", "python3", "-c", `import socket,sys,time
s=socket.socket(); s.bind(("127.0.0.1",0)); s.listen(); print(s.getsockname()[1], flush=True); sys.stdin.read()`)
	stdin, _ := inner.StdinPipe()
	out, _ := inner.StdoutPipe()
	if err := inner.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { stdin.Close(); inner.Process.Kill(); inner.Wait() }()
	var innerPort int
	if _, err := fmt.Fscan(out, &innerPort); err != nil {
		t.Fatalf("the listener in a namespace of its own did not start: %v", err)
	}
	if status, pid := owner(true, innerPort, false); status != "known" || int(pid) != inner.Process.Pid {
		t.Errorf("as nobody with the two capabilities: the listener in another namespace has owner %s, pid %v; want known, %d", status, pid, inner.Process.Pid)
	}
}

// TestPrometheusAlertsOnUnexpectedListener is the fleet story end to end,
// on loopback: portwatch watch serves /metrics; a real Prometheus server
// (Debian's prometheus) scrapes it every second and evaluates the
// repository's alert rules (a copy with every for: at 0s). The baseline
// expects every listener but one port; Prometheus first sees no unexpected
// listener and no alert; when this test listens on that port,
// PortwatchUnexpectedListener goes pending or firing within 30 s, naming
// the port.
func TestPrometheusAlertsOnUnexpectedListener(t *testing.T) {
	sockettest.SkipShort(t, "a real Prometheus server, for up to a minute")
	prometheus := needTool(t, "prometheus", "prometheus")
	dir := t.TempDir()
	// The one place the baseline does not expect: outside the ephemeral
	// range, which every listener on port 0 of this machine draws from.
	ln, port := listenFixed(t)
	ln.Close()
	base := filepath.Join(dir, "baseline")
	os.WriteFile(base, []byte(fmt.Sprintf("# every listener but tcp port %d\n*  tcp  *  1-%d  *  *\n*  tcp  *  %d-65535  *  *\n*  udp  *  *  *  *\n",
		port, port-1, port+1)), 0o644)
	metricsPort := freePort(t)
	w := startWatch(t, "--interval", "200ms", "--baseline", base, "--metrics-addr", fmt.Sprintf("127.0.0.1:%d", metricsPort), "--log", filepath.Join(dir, "events.jsonl"))

	rules, err := os.ReadFile(alertRules)
	if err != nil {
		t.Fatal(err)
	}
	rules = regexp.MustCompile(`(?m)^(\s+for:) \S+$`).ReplaceAll(rules, []byte("$1 0s"))
	os.WriteFile(filepath.Join(dir, "rules.yml"), rules, 0o644)
	config := fmt.Sprintf(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - rules.yml
scrape_configs:
  - job_name: portwatch
    static_configs:
      - targets: ["127.0.0.1:%d"]
`, metricsPort)
	os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(config), 0o644)
	promPort := freePort(t)
	prom := exec.Command(prometheus, "--config.file="+filepath.Join(dir, "prometheus.yml"), "--storage.tsdb.path="+filepath.Join(dir, "data"),
		fmt.Sprintf("--web.listen-address=127.0.0.1:%d", promPort), "--log.level=warn")
	// Prometheus writes its log while the test reads it: under a lock.
	var promMu sync.Mutex
	promLog := &strings.Builder{}
	prom.Stdout, prom.Stderr = lockedWriter{&promMu, promLog}, lockedWriter{&promMu, promLog}
	promText := func() string { promMu.Lock(); defer promMu.Unlock(); return promLog.String() }
	if err := prom.Start(); err != nil {
		t.Fatal(err)
	}
	promDone := make(chan struct{})
	go func() { prom.Wait(); close(promDone) }()
	defer func() {
		prom.Process.Signal(syscall.SIGTERM)
		select {
		case <-promDone:
		case <-time.After(10 * time.Second):
			prom.Process.Kill()
			<-promDone
		}
	}()
	api := fmt.Sprintf("http://127.0.0.1:%d/api/v1/", promPort)
	type alert struct {
		Labels      map[string]string `json:"labels"`
		Annotations map[string]string `json:"annotations"`
		State       string            `json:"state"`
	}
	alerts := func() ([]alert, string) {
		body, err := httpGet(api + "alerts")
		if err != nil {
			return nil, err.Error()
		}
		var r struct {
			Data struct {
				Alerts []alert `json:"alerts"`
			} `json:"data"`
		}
		json.Unmarshal([]byte(body), &r)
		var out []alert
		for _, a := range r.Data.Alerts {
			if a.Labels["alertname"] == "PortwatchUnexpectedListener" {
				out = append(out, a)
			}
		}
		return out, body
	}
	query := func(q string) (string, string) {
		body, err := httpGet(api + "query?query=" + url.QueryEscape(q))
		if err != nil {
			return "", err.Error()
		}
		var r struct {
			Data struct {
				Result []struct {
					Value []any `json:"value"`
				} `json:"result"`
			} `json:"data"`
		}
		json.Unmarshal([]byte(body), &r)
		if len(r.Data.Result) != 1 || len(r.Data.Result[0].Value) != 2 {
			return "", body
		}
		return fmt.Sprint(r.Data.Result[0].Value[1]), body
	}
	// Prometheus is up, scrapes watch, and sees nothing unexpected.
	waitFor(t, 30*time.Second, "Prometheus scraping portwatch_unexpected_listeners 0", func() (bool, string) {
		v, body := query(`portwatch_unexpected_listeners{job="portwatch"}`)
		_, which := query(`portwatch_listening{expected="no"}`)
		return v == "0", body + "\nunexpected: " + which + "\nprometheus: " + promText() + "\nwatch: " + w.stderrText()
	})
	// Two rule evaluations later, still no alert. The rules API says when
	// each group last ran, once a second: a run more than a second after
	// the scrape of 0 was seen is the second since.
	seen := time.Now()
	waitFor(t, 30*time.Second, "two rule evaluations after portwatch_unexpected_listeners 0", func() (bool, string) {
		body, err := httpGet(api + "rules")
		if err != nil {
			return false, err.Error()
		}
		var r struct {
			Data struct {
				Groups []struct {
					LastEvaluation time.Time `json:"lastEvaluation"`
				} `json:"groups"`
			} `json:"data"`
		}
		json.Unmarshal([]byte(body), &r)
		for _, g := range r.Data.Groups {
			if !g.LastEvaluation.After(seen.Add(time.Second)) {
				return false, body
			}
		}
		return len(r.Data.Groups) > 0, body
	})
	if a, body := alerts(); len(a) != 0 || !strings.Contains(body, `"status":"success"`) {
		t.Fatalf("PortwatchUnexpectedListener before any unexpected listener: %s", body)
	}

	ln, err = net.Listen("tcp4", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Skipf("the port picked for the test was taken meanwhile: %v", err)
	}
	defer ln.Close()
	start := time.Now()
	var got []alert
	waitFor(t, 30*time.Second, "PortwatchUnexpectedListener pending or firing", func() (bool, string) {
		var body string
		got, body = alerts()
		return len(got) == 1 && (got[0].State == "pending" || got[0].State == "firing"), body
	})
	a := got[0]
	if a.Labels["severity"] != "critical" || a.Labels["instance"] != fmt.Sprintf("127.0.0.1:%d", metricsPort) ||
		!strings.Contains(a.Annotations["description"], fmt.Sprintf("127.0.0.1:%d held by portwatch.test as", port)) {
		t.Errorf("the alert: %+v; want severity critical, watch's instance, and a description naming 127.0.0.1:%d and this test's program", a, port)
	}
	t.Logf("PortwatchUnexpectedListener %s %.1f s after the listener opened", a.State, time.Since(start).Seconds())
}
