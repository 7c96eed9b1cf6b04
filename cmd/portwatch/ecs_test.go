//go:build linux

package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/portwatch/portwatch/sockets/assess"
	"github.com/portwatch/portwatch/sockets/events"
)

// The ECS fields of a line, flattened to their dotted names, with their
// JSON types: those every line has, and those it has when known.
var (
	ecsRequired = map[string]string{
		"@timestamp": "string", "message": "string", "ecs.version": "string",
		"event.kind": "string", "event.category": "array", "event.type": "array", "event.action": "string",
		"event.severity": "number", "event.risk_score": "number", "event.module": "string", "event.dataset": "string",
		"server.address": "string", "server.port": "number",
		"observer.product": "string", "observer.version": "string", "labels.netns": "string",
	}
	ecsOptional = map[string]string{
		"rule.id": "array", "server.ip": "string", "network.transport": "string", "network.type": "string",
		"process.pid": "number", "process.name": "string", "process.executable": "string", "user.name": "string",
		"observer.hostname": "string",
	}
)

// flattenECS turns a line's nested objects into dotted names; arrays and
// scalars are leaves.
func flattenECS(prefix string, obj map[string]any, out map[string]any) {
	for k, v := range obj {
		name := k
		if prefix != "" {
			name = prefix + "." + k
		}
		if m, ok := v.(map[string]any); ok {
			flattenECS(name, m, out)
			continue
		}
		out[name] = v
	}
}

func ecsJSONType(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "bool"
	case []any:
		return "array"
	case nil:
		return "null"
	}
	return "object"
}

// checkECSLine parses one line and checks it has every required field, no
// field the README does not list, each of its type, and the values ECS
// allows where it allows few.
func checkECSLine(line []byte) (map[string]any, error) {
	var raw map[string]any
	if err := json.Unmarshal(line, &raw); err != nil {
		return nil, fmt.Errorf("not one JSON object: %v: %q", err, line)
	}
	flat := map[string]any{}
	flattenECS("", raw, flat)
	var problems []string
	for k, typ := range ecsRequired {
		if v, ok := flat[k]; !ok {
			problems = append(problems, "no "+k)
		} else if ecsJSONType(v) != typ {
			problems = append(problems, fmt.Sprintf("%s is a %s, want a %s", k, ecsJSONType(v), typ))
		}
	}
	for k, v := range flat {
		typ, ok := ecsRequired[k]
		if !ok {
			typ, ok = ecsOptional[k]
		}
		if !ok {
			problems = append(problems, "the field "+k+" is not documented")
		} else if ecsJSONType(v) != typ {
			problems = append(problems, fmt.Sprintf("%s is a %s, want a %s", k, ecsJSONType(v), typ))
		}
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return flat, fmt.Errorf("%s in %s", strings.Join(problems, "; "), line)
	}
	if _, err := time.Parse(time.RFC3339Nano, flat["@timestamp"].(string)); err != nil {
		problems = append(problems, "@timestamp is not RFC 3339")
	}
	if k := flat["event.kind"]; k != "alert" && k != "event" {
		problems = append(problems, fmt.Sprintf("event.kind %v", k))
	}
	if c := flat["event.category"].([]any); len(c) != 1 || c[0] != "network" {
		problems = append(problems, fmt.Sprintf("event.category %v", c))
	}
	for _, ty := range flat["event.type"].([]any) {
		if !slices.Contains([]any{"start", "end", "info"}, ty) { // ECS's for category network, as used here
			problems = append(problems, fmt.Sprintf("event.type %v", ty))
		}
	}
	if tr, ok := flat["network.transport"]; ok && tr != "tcp" && tr != "udp" {
		problems = append(problems, fmt.Sprintf("network.transport %v", tr))
	}
	if ty, ok := flat["network.type"]; ok && ty != "ipv4" && ty != "ipv6" {
		problems = append(problems, fmt.Sprintf("network.type %v", ty))
	}
	if flat["ecs.version"] != ecsVersion {
		problems = append(problems, fmt.Sprintf("ecs.version %v", flat["ecs.version"]))
	}
	if len(problems) > 0 {
		return flat, fmt.Errorf("%s in %s", strings.Join(problems, "; "), line)
	}
	return flat, nil
}

// TestECSEveryKind: each kind of event, with and without a process, an
// IPv6 address and a baseline's protocol *, becomes a line with the
// documented fields and the right kind, type, severity and network.
func TestECSEveryKind(t *testing.T) {
	at := time.Date(2026, 12, 2, 17, 0, 0, 123000000, time.FixedZone("CET", 3600))
	enc := newECSEncoder("web-1")
	for _, c := range []struct {
		ev                 events.Event
		kind, typ, netType string
		severity           float64
	}{
		{events.Event{Kind: events.Opened, Risk: assess.RiskHigh, Netns: "host", Proto: "tcp", Address: "0.0.0.0", Port: 4444,
			PID: 5120, Process: "nc", Exe: "/usr/bin/nc.openbsd", User: "www-data", Codes: []string{"backdoor-port"}, Text: "opened: nc"},
			"event", "start", "ipv4", 4},
		{events.Event{Kind: events.Closed, Risk: assess.RiskInfo, Netns: "host", Proto: "udp", Address: "::1", Port: 53, Codes: []string{}, Text: "closed"},
			"event", "end", "ipv6", 1},
		{events.Event{Kind: events.Unexpected, Risk: assess.RiskMedium, Netns: "netns:4026532", Proto: "tcp", Address: "127.0.0.1", Port: 8080,
			PID: 1, Process: "x", Codes: []string{"unexpected-listener"}, Text: "not in the baseline"}, "alert", "info", "ipv4", 3},
		{events.Event{Kind: events.Missing, Risk: assess.RiskLow, Netns: "host", Proto: "*", Address: "0.0.0.0", Port: 22,
			Codes: []string{"missing-listener"}, Text: "nothing listens"}, "alert", "info", "ipv4", 2},
		{events.Event{Kind: events.NewOwner, Netns: "host", Proto: "tcp", Address: "::", Port: 80, Codes: []string{}, Text: "now held by b"},
			"event", "info", "ipv6", 1},
		{events.Event{Kind: events.Finding, Risk: assess.RiskHigh, Netns: "host", Proto: "tcp", Address: "10.0.0.1", Port: 22, Codes: []string{"port-scan"}, Text: "scan"},
			"alert", "info", "ipv4", 4},
	} {
		c.ev.Time = at
		line, err := enc.encode(&c.ev)
		if err != nil {
			t.Fatal(err)
		}
		flat, err := checkECSLine(line)
		if err != nil {
			t.Errorf("%s: %v", c.ev.Kind, err)
			continue
		}
		if flat["event.kind"] != c.kind || flat["event.type"].([]any)[0] != c.typ || flat["network.type"] != c.netType ||
			flat["event.severity"] != c.severity || flat["event.action"] != string(c.ev.Kind) {
			t.Errorf("%s: %s", c.ev.Kind, line)
		}
		if flat["@timestamp"] != "2026-12-02T16:00:00.123Z" || flat["observer.hostname"] != "web-1" || flat["labels.netns"] != c.ev.Netns {
			t.Errorf("%s: time, observer or netns: %s", c.ev.Kind, line)
		}
		if c.ev.Proto == "*" {
			if _, ok := flat["network.transport"]; ok {
				t.Errorf("a baseline line of protocol * has a transport: %s", line)
			}
		} else if flat["network.transport"] != c.ev.Proto {
			t.Errorf("%s: transport: %s", c.ev.Kind, line)
		}
		if _, ok := flat["process.pid"]; ok != (c.ev.PID != 0) {
			t.Errorf("%s: process.pid present %v with pid %d: %s", c.ev.Kind, ok, c.ev.PID, line)
		}
		if ids, _ := flat["rule.id"].([]any); len(ids) != len(c.ev.Codes) {
			t.Errorf("%s: rule.id %v, want the codes %v", c.ev.Kind, ids, c.ev.Codes)
		}
		if !strings.HasSuffix(flat["message"].(string), ": "+c.ev.Text) || !strings.Contains(flat["message"].(string), fmt.Sprint(c.ev.Port)) {
			t.Errorf("%s: message %q", c.ev.Kind, flat["message"])
		}
	}
}

// TestECSReadmeTableListsEveryField: the README's table of ECS fields
// names exactly the fields a line may have.
func TestECSReadmeTableListsEveryField(t *testing.T) {
	section := readmeSection(t, "Events in ECS")
	listed := map[string]bool{}
	for _, m := range regexp.MustCompile("(?m)^\\|[^|]*\\| `([^`]+)` \\|").FindAllStringSubmatch(section, -1) {
		listed[m[1]] = true
	}
	for _, spec := range []map[string]string{ecsRequired, ecsOptional} {
		for k := range spec {
			if !listed[k] {
				t.Errorf("the README's ECS table lacks %s", k)
			}
		}
	}
	for k := range listed {
		if _, ok := ecsRequired[k]; !ok {
			if _, ok := ecsOptional[k]; !ok {
				t.Errorf("the README's ECS table lists %s, which portwatch does not write", k)
			}
		}
	}
	if !strings.Contains(section, "`"+ecsVersion+"`") {
		t.Errorf("the README's ECS section does not name ECS %s", ecsVersion)
	}
}

// TestECSFromRealWatch runs the built binary's watch with --log FILE
// --log-format ecs against a baseline, opens a listener and reads its
// events: every line is an ECS line with the documented fields, and the
// new listener's events name this test's port, pid and executable.
func TestECSFromRealWatch(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary for seconds")
	}
	bin := sharedBinary(t)
	dir := t.TempDir()
	base := filepath.Join(dir, "baseline")
	if out, err := exec.Command(bin, "baseline", "save", base).CombinedOutput(); err != nil {
		t.Fatalf("baseline save: %v: %s", err, out)
	}
	logFile, textfile := filepath.Join(dir, "events.ecs.jsonl"), filepath.Join(dir, "portwatch.prom")
	w := startWatch(t, "--interval", "200ms", "--baseline", base, "--log", logFile, "--log-format", "ecs", "--textfile", textfile)
	// The textfile is written after the first poll, the starting point of
	// the events: a listener opened before it would be no event.
	waitFor(t, 20*time.Second, "watch's first poll", func() (bool, string) {
		_, err := os.Stat(textfile)
		return err == nil, w.stderrText()
	})
	_, port := listenFixed(t)

	lines := func() []map[string]any {
		b, _ := os.ReadFile(logFile)
		if len(b) > 0 && b[len(b)-1] != '\n' {
			t.Fatalf("the log does not end with a whole line: %q", b)
		}
		var out []map[string]any
		sc := bufio.NewScanner(strings.NewReader(string(b)))
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		for sc.Scan() {
			flat, err := checkECSLine(sc.Bytes())
			if err != nil {
				t.Fatalf("an ECS line: %v", err)
			}
			out = append(out, flat)
		}
		return out
	}
	find := func(ls []map[string]any, action string) map[string]any {
		for _, l := range ls {
			if l["event.action"] == action && l["server.port"] == float64(port) {
				return l
			}
		}
		return nil
	}
	waitFor(t, 10*time.Second, "the ECS lines of our new listener", func() (bool, string) {
		ls := lines()
		return find(ls, "listener-opened") != nil && find(ls, "unexpected-listener") != nil, fmt.Sprint(ls)
	})
	ls := lines()
	exe, _ := os.Executable()
	opened, unexpected := find(ls, "listener-opened"), find(ls, "unexpected-listener")
	for _, l := range []map[string]any{opened, unexpected} {
		if l["process.pid"] != float64(os.Getpid()) || l["process.executable"] != exe || l["server.address"] != "127.0.0.1" ||
			l["server.ip"] != "127.0.0.1" || l["network.transport"] != "tcp" || l["network.type"] != "ipv4" || l["labels.netns"] != "host" {
			t.Errorf("%v: want our pid %d and exe %s, 127.0.0.1 tcp ipv4 in host", l, os.Getpid(), exe)
		}
	}
	if opened["event.kind"] != "event" || opened["event.type"].([]any)[0] != "start" {
		t.Errorf("listener-opened: %v, want kind event, type start", opened)
	}
	if unexpected["event.kind"] != "alert" || !slices.Contains(unexpected["rule.id"].([]any), any("unexpected-listener")) ||
		unexpected["event.severity"] != float64(4) || unexpected["event.risk_score"] != float64(73) {
		t.Errorf("unexpected-listener: %v, want an alert of rule unexpected-listener, severity 4 (HIGH)", unexpected)
	}
	host, _ := os.Hostname()
	if opened["observer.hostname"] != host {
		t.Errorf("observer.hostname %v, want %s", opened["observer.hostname"], host)
	}
	if code := w.stop(syscall.SIGTERM); code != 0 {
		t.Errorf("watch after SIGTERM: exit %d; stderr:\n%s", code, w.stderrText())
	}
	lines()
}

// TestLogFormatMistakes: a --log-format word portwatch does not know, or
// one that would do nothing, is one line and exit code 2; the default is
// portwatch's own lines.
func TestLogFormatMistakes(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"watch", "--log-format", "nosuch"}, `portwatch: invalid --log-format "nosuch": want portwatch (portwatch's own JSON lines) or ecs (Elastic Common Schema) (see portwatch watch --help)`},
		{[]string{"--log-format", "nosuch"}, `portwatch: invalid --log-format "nosuch": want portwatch (portwatch's own JSON lines) or ecs (Elastic Common Schema) (see portwatch --help)`},
		{[]string{"watch", "--log-format"}, "portwatch: --log-format needs a value (see portwatch watch --help)"},
		{[]string{"--log-format", "ecs"}, "portwatch: --log-format says how --log writes the events: give --log FILE too (the monitor writes none without it) (see portwatch --help)"},
		{[]string{"--json", "--log-format", "ecs"}, "portwatch: --log-format does nothing with --json, which takes one snapshot, with no events to log: --log-format is for the monitor's --log and portwatch watch (see portwatch --help)"},
	} {
		code, out, errOut := runArgs(t, c.args...)
		if code != 2 || out != "" || errOut != c.want+"\n" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want 2 and %q", c.args, code, out, errOut, c.want)
		}
	}
	for _, args := range [][]string{{"watch"}, {"watch", "--log-format", "portwatch"}} {
		if o, _, err := parseSub(args, newWatchCommand); err != nil || o.logFormat != logFormatPortwatch {
			t.Errorf("%v: --log-format %q %v, want portwatch", args, o.logFormat, err)
		}
	}
	if o, _, err := parseSub([]string{"watch", "--log-format", "ecs"}, newWatchCommand); err != nil || o.logFormat != logFormatECS {
		t.Errorf("watch --log-format ecs: %q %v", o.logFormat, err)
	}
	if o, _, err := parseRoot([]string{"--log", "/tmp/x", "--log-format", "ecs"}, io.Discard); err != nil || o.logFormat != logFormatECS {
		t.Errorf("the monitor's --log-format ecs: %q %v", o.logFormat, err)
	}
}

// TestECSReadmeExample: the README's ECS line is what portwatch writes for
// the README's portwatch line (on a machine named as in the example), and
// has the documented fields.
func TestECSReadmeExample(t *testing.T) {
	example := func(section string) string {
		_, ex, ok := strings.Cut(readmeSection(t, section), "```json\n")
		if !ok {
			t.Fatalf("the README's %s section has no JSON example", section)
		}
		ex, _, _ = strings.Cut(ex, "\n```")
		return ex
	}
	var line eventLine
	if err := json.Unmarshal([]byte(example("Running it: interactive, cron, fleet")), &line); err != nil {
		t.Fatalf("the README's event line: %v", err)
	}
	at, err := time.Parse(time.RFC3339Nano, line.Time)
	if err != nil {
		t.Fatal(err)
	}
	ev := events.Event{Time: at, Kind: events.Kind(line.Kind), Netns: line.Netns, Proto: line.Proto, Address: line.Address,
		Port: uint16(line.Port), PID: int32(line.PID), Process: line.Process, Exe: line.Exe, User: line.User, Codes: line.Codes, Text: line.Text}
	for r := assess.RiskInfo; r <= assess.RiskHigh; r++ {
		if r.String() == line.Risk {
			ev.Risk = r
		}
	}
	ecsLine := example("Events in ECS")
	flat, err := checkECSLine([]byte(ecsLine))
	if err != nil {
		t.Fatalf("the README's ECS line: %v", err)
	}
	enc := &ecsEncoder{hostname: fmt.Sprint(flat["observer.hostname"]), version: fmt.Sprint(flat["observer.version"])}
	want, err := enc.encode(&ev)
	if err != nil {
		t.Fatal(err)
	}
	if string(want) != ecsLine {
		t.Errorf("the README's ECS line is not portwatch's for the README's event:\nREADME:    %s\nportwatch: %s", ecsLine, want)
	}
}
