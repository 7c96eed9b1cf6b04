package assess

import (
	"strings"
	"testing"

	"github.com/portwatch/portwatch/sockets"
)

// The profile's conclusions by case: what is local stays local, a remote
// desktop on a mail server and telnet stand out, a web server without TLS
// is said to be, and an unnamed reachable listener is counted.
func TestProfileCases(t *testing.T) {
	kb := testKnowledge(t)
	lst := func(proto sockets.Proto, addr string, port uint16) sockets.Socket {
		s := sock(proto, addr, port, "0.0.0.0", 0, sockets.StateListen, uint64(port))
		if proto == sockets.UDP {
			s.State = "UNCONN"
		}
		return s
	}
	cases := []struct {
		name      string
		socks     []sockets.Socket
		summary   string
		standouts []string
	}{
		{"a web server with a local database", []sockets.Socket{lst(sockets.TCP, "0.0.0.0", 443), lst(sockets.TCP, "127.0.0.1", 5432)},
			"web server (TLS only); local only: database", nil},
		{"a mail server with a remote desktop", []sockets.Socket{lst(sockets.TCP, "0.0.0.0", 25), lst(sockets.TCP, "0.0.0.0", 993), lst(sockets.TCP, "0.0.0.0", 3389)},
			"mail server (with TLS), remote desktop", []string{StandoutRemoteDesktop}},
		{"telnet and plain http", []sockets.Socket{lst(sockets.TCP, "0.0.0.0", 23), lst(sockets.TCP, "0.0.0.0", 80)},
			"web server (cleartext only), remote administration (cleartext only)", []string{StandoutCleartextAdmin, StandoutWebCleartext}},
		{"DNS on both transports", []sockets.Socket{lst(sockets.UDP, "0.0.0.0", 53), lst(sockets.TCP, "0.0.0.0", 53)},
			"DNS server", nil},
		{"an unnamed listener", []sockets.Socket{lst(sockets.TCP, "0.0.0.0", 22), lst(sockets.TCP, "0.0.0.0", 40123)},
			"remote administration (encrypted)", []string{StandoutUnnamed}},
		{"nothing", nil, "no role: no listener portwatch can name", nil},
	}
	for _, c := range cases {
		p := ProfileOf(judged(kb, c.socks...))
		if got := p.Summary(); got != c.summary {
			t.Errorf("%s: summary %q, want %q", c.name, got, c.summary)
		}
		var codes []string
		for _, s := range p.Standouts {
			codes = append(codes, s.Code)
		}
		if strings.Join(codes, " ") != strings.Join(c.standouts, " ") {
			t.Errorf("%s: standouts %v, want %v", c.name, codes, c.standouts)
		}
	}
}

// A database reachable from outside beside a web server that is local
// only: the standout does not say "on a web server", since the profile
// lists that web server as local only (the two read against each other).
func TestExposedDatabaseBesideALocalWebServer(t *testing.T) {
	kb := testKnowledge(t)
	web := sock(sockets.TCP, "127.0.0.1", 80, "0.0.0.0", 0, sockets.StateListen, 80)
	db := sock(sockets.TCP, "0.0.0.0", 5432, "0.0.0.0", 0, sockets.StateListen, 5432)
	p := ProfileOf(judged(kb, web, db))
	if !strings.Contains(p.Summary(), "local only: web server") {
		t.Fatalf("summary %q: the web server should be local only", p.Summary())
	}
	for _, s := range p.Standouts {
		if s.Code == StandoutExposedDatabase && strings.Contains(s.Text, "on a web server") {
			t.Errorf("the standout says %q while the web server is local only", s.Text)
		}
	}
}
