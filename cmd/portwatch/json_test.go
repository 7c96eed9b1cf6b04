//go:build linux

package main

import (
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"net"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/assess"
	"github.com/portwatch/portwatch/sockets/sockettest"
)

// The JSON interface, written out: every key of each object with its JSON
// type, and every value of each enumeration. The keys are checked on the
// raw document (Go's struct decoding ignores the case of keys, so a
// "Local_Port" would slip through it), and the README must document them.
type keySpec map[string]string // key -> "string", "number", "bool", "array" or "object"

var (
	docKeys          = keySpec{"taken": "string", "took_ms": "number", "root": "bool", "method": "string", "hidden_owners": "number", "netns_skipped": "number", "profile": "object", "sockets": "array", "published": "array"}
	profileKeys      = keySpec{"summary": "string", "roles": "array", "standouts": "array"}
	roleKeys         = keySpec{"name": "string", "reachable": "bool", "evidence": "array"}
	roleOptional     = keySpec{"detail": "string"}
	standoutKeys     = keySpec{"risk": "string", "code": "string", "text": "string"}
	docOnlyIf        = keySpec{"hidden_reason": "string", "netns_reason": "string"} // when hidden_owners, netns_skipped > 0
	docOptional      = keySpec{"baseline": "object"}                                // with a baseline
	baselineKeys     = keySpec{"path": "string", "missing": "array"}
	missingKeys      = keySpec{"netns": "string", "proto": "string", "address": "string", "port": "string", "program": "string", "user": "string", "line": "number"}
	listenerOptional = keySpec{"baseline": "string", "firewall": "object"} // listeners, with a baseline; where a ruleset was read
	firewallKeys     = keySpec{"verdict": "string", "rule": "string", "sources": "array"}
	firewallOptional = keySpec{"reason": "string", "others": "string", "exceptions": "array", "note": "string", "by_family": "array", "by_address": "array", "frontend": "string", "source": "string"} // as the verdict needs
	socketKeys       = keySpec{
		"proto": "string", "family": "number", "local_address": "string", "local_port": "number",
		"remote_address": "string", "remote_port": "number", "state": "string", "kind": "string",
		"dual_stack": "bool", "inode": "number", "uid": "number", "pid": "number", "process": "string",
		"user": "string", "owner_status": "string", "owners": "array", "netns": "string",
		"service": "object", "risk": "string", "role": "string", "findings": "array",
	}
	socketOptional = keySpec{"remedy": "string"}                            // where a finding has one
	listenerKeys   = keySpec{"exposure": "string", "connections": "number"} // kind "listening" only
	connectionKeys = keySpec{"direction": "string"}                         // every other kind
	// TCP connections' kernel counters, where the kernel gave them
	connectionOptional = keySpec{"bytes_sent": "number", "bytes_received": "number", "rtt_ms": "number", "retransmits": "number"}
	ownerKeys          = keySpec{"pid": "number", "ppid": "number", "name": "string", "exe": "string", "exe_deleted": "bool", "cmdline": "string", "user": "string", "uid": "number"}
	ownerOptional      = keySpec{"started": "string", "unit": "string", "identity": "object"} // when known
	identityKeys       = keySpec{"proof": "string", "reason": "string"}
	identityOptional   = keySpec{"manager": "string", "package": "string", "version": "string"} // where a database was read, and lists the file
	serviceKeys        = keySpec{"name": "string", "description": "string", "source": "string", "note": "string"}
	serviceOptional    = keySpec{"program": "string"} // when a program identified it
	findingKeys        = keySpec{"severity": "string", "code": "string", "text": "string"}
	findingOptional    = keySpec{"remedy": "string"} // where portwatch knows one

	// jsonEnums are the values each enumerated key takes, as scripts see them.
	jsonEnums = map[string][]string{
		"method":       {"netlink", "procfs"},
		"proto":        {"tcp", "udp"},
		"kind":         {"listening", "established", "other"},
		"direction":    {"in", "out"},
		"exposure":     {"all interfaces", "loopback", "specific address"},
		"owner_status": {"known", "none", "hidden", "outside", "unreadable", "gone"},
		"risk":         {"INFO", "LOW", "MEDIUM", "HIGH"}, // and a finding's severity
		"source":       {"port+program", "program", "port", "services", "unknown"},
		"state":        append(slices.Clone(assess.TCPStates), sockets.StateUnconnected),
		"baseline":     {"expected", "unexpected", "changed"}, // a listener's
		"verdict":      {"open", "restricted", "filtered", "closed", "unknown"},
		"role":         {"listener", "client-socket", "connection"},
		"proof":        {"package", "listed", "system-path", "unproven", "unowned", "modified", "mounted-over"},
	}
	codeWord = regexp.MustCompile(`^[a-z]+(-[a-z]+)*$`)
)

// jsonType names the JSON type of a decoded value.
func jsonType(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "bool"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return "null"
}

// docChecker collects what is wrong with a decoded --json document.
type docChecker struct {
	problems []string
	codes    map[string]bool // the finding codes portwatch defines; nil: any code word
}

func (c *docChecker) bad(format string, args ...any) {
	c.problems = append(c.problems, fmt.Sprintf(format, args...))
}

// keys checks obj's exact key set: every key of want, and only those and
// the ones of optional, each with its type.
func (c *docChecker) keys(where string, obj map[string]any, want, optional keySpec) {
	for k, typ := range want {
		if v, ok := obj[k]; !ok {
			c.bad("%s: no %q", where, k)
		} else if jsonType(v) != typ {
			c.bad("%s: %q is a %s, want a %s", where, k, jsonType(v), typ)
		}
	}
	for k, v := range obj {
		typ, ok := want[k]
		if !ok {
			typ, ok = optional[k]
		}
		if !ok {
			c.bad("%s: unexpected key %q", where, k)
		} else if jsonType(v) != typ {
			c.bad("%s: %q is a %s, want a %s", where, k, jsonType(v), typ)
		}
	}
}

func (c *docChecker) enum(where, key string, v any) {
	enum := key
	if key == "severity" {
		enum = "risk"
	}
	s, _ := v.(string)
	if !slices.Contains(jsonEnums[enum], s) {
		c.bad("%s: %q is %q, want one of %q", where, key, v, jsonEnums[enum])
	}
}

// has reports whether an optional key is present; its type is checked by keys.
func has(obj map[string]any, key string) bool { _, ok := obj[key]; return ok }

func (c *docChecker) document(doc map[string]any) {
	optional := keySpec{}
	for _, spec := range []keySpec{docOnlyIf, docOptional} {
		for k, typ := range spec {
			optional[k] = typ
		}
	}
	c.keys("document", doc, docKeys, optional)
	if p, ok := doc["profile"].(map[string]any); ok {
		c.keys("profile", p, profileKeys, nil)
		roles, _ := p["roles"].([]any)
		for i, v := range roles {
			r, _ := v.(map[string]any)
			c.keys(fmt.Sprintf("profile role[%d]", i), r, roleKeys, roleOptional)
		}
		standouts, _ := p["standouts"].([]any)
		for i, v := range standouts {
			so, _ := v.(map[string]any)
			c.keys(fmt.Sprintf("profile standout[%d]", i), so, standoutKeys, nil)
		}
	}
	if b, ok := doc["baseline"].(map[string]any); ok {
		c.keys("baseline", b, baselineKeys, nil)
		missing, _ := b["missing"].([]any)
		for i, v := range missing {
			m, _ := v.(map[string]any)
			c.keys(fmt.Sprintf("baseline missing[%d]", i), m, missingKeys, nil)
			c.enum(fmt.Sprintf("baseline missing[%d]", i), "proto", m["proto"])
		}
	}
	if n, _ := doc["hidden_owners"].(float64); has(doc, "hidden_reason") != (n > 0) {
		c.bad("document: hidden_reason present %v with hidden_owners %v", has(doc, "hidden_reason"), n)
	}
	if n, _ := doc["netns_skipped"].(float64); has(doc, "netns_reason") != (n > 0) {
		c.bad("document: netns_reason present %v with netns_skipped %v", has(doc, "netns_reason"), n)
	}
	c.enum("document", "method", doc["method"])
	if _, err := time.Parse(time.RFC3339Nano, fmt.Sprint(doc["taken"])); err != nil {
		c.bad("document: taken %q is not RFC 3339", doc["taken"])
	}
	socks, _ := doc["sockets"].([]any)
	for i, v := range socks {
		s, ok := v.(map[string]any)
		if !ok {
			c.bad("sockets[%d] is a %s", i, jsonType(v))
			continue
		}
		c.socket(fmt.Sprintf("socket %v %v:%v (%v)", s["proto"], s["local_address"], s["local_port"], s["kind"]), s)
	}
}

func (c *docChecker) socket(where string, s map[string]any) {
	want, only, optional := keySpec{}, listenerKeys, listenerOptional
	for k, typ := range socketKeys {
		want[k] = typ
	}
	if s["kind"] != "listening" {
		only, optional = connectionKeys, connectionOptional
	}
	for k, typ := range only {
		want[k] = typ
	}
	optional = maps.Clone(optional)
	maps.Copy(optional, socketOptional)
	c.keys(where, s, want, optional)
	if has(s, "baseline") {
		c.enum(where, "baseline", s["baseline"])
	}
	if fw, ok := s["firewall"].(map[string]any); ok {
		c.keys(where+" firewall", fw, firewallKeys, firewallOptional)
		c.enum(where+" firewall", "verdict", fw["verdict"])
	}
	for _, k := range []string{"proto", "kind", "owner_status", "risk", "state", "role"} {
		c.enum(where, k, s[k])
	}
	if has(s, "direction") {
		c.enum(where, "direction", s["direction"])
	}
	if has(s, "exposure") {
		c.enum(where, "exposure", s["exposure"])
	}
	if f := s["family"]; f != 4.0 && f != 6.0 {
		c.bad("%s: family %v, want 4 or 6", where, f)
	}
	if svc, ok := s["service"].(map[string]any); ok {
		c.keys(where+" service", svc, serviceKeys, serviceOptional)
		c.enum(where+" service", "source", svc["source"])
	}
	owners, _ := s["owners"].([]any)
	for _, v := range owners {
		o, _ := v.(map[string]any)
		c.keys(fmt.Sprintf("%s owner %v", where, o["pid"]), o, ownerKeys, ownerOptional)
		if id, ok := o["identity"].(map[string]any); ok {
			c.keys(fmt.Sprintf("%s owner %v identity", where, o["pid"]), id, identityKeys, identityOptional)
			c.enum(where+" identity", "proof", id["proof"])
		}
		if started, ok := o["started"].(string); ok {
			if _, err := time.Parse(time.RFC3339, started); err != nil {
				c.bad("%s: owner started %q is not RFC 3339", where, started)
			}
		}
	}
	if (len(owners) > 0) != (s["owner_status"] == "known") {
		c.bad("%s: %d owners with owner_status %v", where, len(owners), s["owner_status"])
	}
	findings, _ := s["findings"].([]any)
	for _, v := range findings {
		f, _ := v.(map[string]any)
		c.keys(where+" finding", f, findingKeys, findingOptional)
		c.enum(where+" finding", "severity", f["severity"])
		code, _ := f["code"].(string)
		if !codeWord.MatchString(code) || (c.codes != nil && !c.codes[code]) {
			c.bad("%s: finding code %q is not one of portwatch's", where, code)
		}
	}
}

// findingCodes reads the finding codes from the assess package's source:
// its string constants named Code*.
func findingCodes(t *testing.T) map[string]bool {
	t.Helper()
	pkgs, err := parser.ParseDir(token.NewFileSet(), "../../sockets/assess", func(fi os.FileInfo) bool {
		return !strings.HasSuffix(fi.Name(), "_test.go")
	}, 0)
	if err != nil {
		t.Fatal(err)
	}
	codes := map[string]bool{}
	for _, pkg := range pkgs {
		ast.Inspect(pkg, func(n ast.Node) bool {
			spec, ok := n.(*ast.ValueSpec)
			if !ok {
				return true
			}
			for i, name := range spec.Names {
				if !strings.HasPrefix(name.Name, "Code") || i >= len(spec.Values) {
					continue
				}
				if lit, ok := spec.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
					v, _ := strconv.Unquote(lit.Value)
					codes[v] = true
				}
			}
			return true
		})
	}
	if len(codes) == 0 {
		t.Fatal("no finding codes found in sockets/assess")
	}
	return codes
}

// unknownPortListener listens on addr (port 0) until the kernel gives a
// port that neither portwatch's catalog nor /etc/services names.
func unknownPortListener(t *testing.T, addr string) net.Listener {
	t.Helper()
	kb := assess.SystemKnowledge()
	for range 50 {
		ln, err := net.Listen("tcp4", addr)
		if err != nil {
			t.Fatal(err)
		}
		p, _ := strconv.Atoi(port(ln.Addr()))
		if kb.Lookup(sockets.TCP, uint16(p)).Origin == assess.Unknown {
			return ln
		}
		ln.Close()
	}
	t.Fatal("no unknown port in 50 tries")
	return nil
}

// TestJSONKeysAndValuesRaw decodes portwatch --json into maps and checks the
// exact key set of the document, of every socket, owner, service and
// finding, and the values of every enumeration; then the sockets this test
// made: an unknown listener on all interfaces, one on loopback, and both
// ends of a connection to it.
func TestJSONKeysAndValuesRaw(t *testing.T) {
	wild := unknownPortListener(t, "0.0.0.0:0")
	defer wild.Close()
	pair := sockettest.LoopbackPair(t)
	lo, client, server := pair.Listener, pair.Client, pair.Server

	code, out, errOut := runArgs(t, "--json")
	if code != 0 {
		t.Fatalf("--json: exit %d: %s", code, errOut)
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

	// Ours, by local endpoint.
	find := func(addr, lport string) map[string]any {
		socks, _ := doc["sockets"].([]any)
		for _, v := range socks {
			s, _ := v.(map[string]any)
			if s["proto"] == "tcp" && s["local_address"] == addr && fmt.Sprint(s["local_port"]) == lport {
				return s
			}
		}
		t.Fatalf("--json does not list tcp %s:%s", addr, lport)
		return nil
	}
	hasCode := func(s map[string]any, code string) bool {
		findings, _ := s["findings"].([]any)
		for _, f := range findings {
			if f.(map[string]any)["code"] == code {
				return true
			}
		}
		return false
	}
	mine := func(what string, s map[string]any, kind, direction, exposure string) {
		t.Helper()
		if s["kind"] != kind || s["family"] != 4.0 || s["owner_status"] != "known" || s["pid"] != float64(os.Getpid()) {
			t.Errorf("%s: kind %v, family %v, owner_status %v, pid %v; want %s, 4, known, %d",
				what, s["kind"], s["family"], s["owner_status"], s["pid"], kind, os.Getpid())
		}
		if s["direction"] != nilIfEmpty(direction) || s["exposure"] != nilIfEmpty(exposure) {
			t.Errorf("%s: direction %v, exposure %v; want %q, %q", what, s["direction"], s["exposure"], direction, exposure)
		}
		owners, _ := s["owners"].([]any)
		if len(owners) != 1 || owners[0].(map[string]any)["pid"] != float64(os.Getpid()) {
			t.Errorf("%s: owners %v, want this process alone", what, owners)
		}
	}

	w := find("0.0.0.0", port(wild.Addr()))
	mine("the unknown listener on 0.0.0.0", w, "listening", "", "all interfaces")
	if svc := w["service"].(map[string]any); svc["source"] != "unknown" || !hasCode(w, assess.CodeUnknownListener) {
		t.Errorf("the listener on 0.0.0.0:%s: source %v, findings %v; want unknown and %s",
			port(wild.Addr()), svc["source"], w["findings"], assess.CodeUnknownListener)
	}
	l := find("127.0.0.1", port(lo.Addr()))
	mine("the listener on 127.0.0.1", l, "listening", "", "loopback")
	if !hasCode(l, assess.CodeLoopbackOnly) || l["connections"] != 1.0 {
		t.Errorf("the listener on 127.0.0.1: findings %v, connections %v; want %s and 1",
			l["findings"], l["connections"], assess.CodeLoopbackOnly)
	}
	srv := findConn(t, doc, port(server.LocalAddr()), port(server.RemoteAddr()))
	mine("the connection's server end", srv, "established", "in", "")
	cli := findConn(t, doc, port(client.LocalAddr()), port(client.RemoteAddr()))
	mine("the connection's client end", cli, "established", "out", "")
}

// findConn finds a TCP connection of the document by its ports.
func findConn(t *testing.T, doc map[string]any, lport, rport string) map[string]any {
	t.Helper()
	socks, _ := doc["sockets"].([]any)
	for _, v := range socks {
		s, _ := v.(map[string]any)
		if s["proto"] == "tcp" && s["kind"] == "established" &&
			fmt.Sprint(s["local_port"]) == lport && fmt.Sprint(s["remote_port"]) == rport {
			return s
		}
	}
	t.Fatalf("--json does not list the connection %s -> %s", lport, rport)
	return nil
}

// nilIfEmpty is what a map decoded from JSON gives for an omitted string key.
func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
