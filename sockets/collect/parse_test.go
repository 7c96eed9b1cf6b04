//go:build linux

package collect

import (
	"net/netip"
	"testing"

	"github.com/portwatch/portwatch/sockets"
)

func TestParseHexEndpoint(t *testing.T) {
	cases := []struct {
		in   string
		addr string
		port uint16
		bad  bool
	}{
		{"0100007F:1F90", "127.0.0.1", 8080, false},
		{"00000000:0016", "0.0.0.0", 22, false},
		{"00000000000000000000000000000000:0035", "::", 53, false},
		{"00000000000000000000000001000000:0277", "::1", 631, false},
		// ::ffff:127.0.0.1, a v4 peer on a dual-stack socket, shown as IPv4
		{"0000000000000000FFFF00000100007F:D431", "127.0.0.1", 54321, false},
		{"0100007F", "", 0, true},
		{"0100007G:0016", "", 0, true},
		{"0100007F:XYZ", "", 0, true},
		{"01007F:0016", "", 0, true},
	}
	for _, c := range cases {
		a, p, err := parseHexEndpoint([]byte(c.in))
		if c.bad {
			if err == nil {
				t.Errorf("%s: want an error, got %v:%d", c.in, a, p)
			}
			continue
		}
		if err != nil || a != netip.MustParseAddr(c.addr) || p != c.port {
			t.Errorf("%s: got %v:%d (%v), want %s:%d", c.in, a, p, err, c.addr, c.port)
		}
	}
}

func TestParseProcNetStatesAndFields(t *testing.T) {
	table := "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n" +
		"   0: 0100007F:0CEA 00000000:0000 0A 00000000:00000000 00:00000000 00000000   108        0 4242 1 0\n" +
		"   1: 0100007F:0CEA 0100007F:A000 01 00000000:00000000 00:00000000 00000000  1000        0 4343 1 0\n" +
		"   2: 0100007F:A001 0100007F:0CEA 06 00000000:00000000 03:00000401 00000000     0        0 0 3 0\n" +
		"   3: short line\n"
	socks, err := parseProcNet([]byte(table), procNetTable{"tcp", sockets.TCP, 4})
	if err != nil {
		t.Fatal(err)
	}
	if len(socks) != 3 {
		t.Fatalf("got %d sockets, want 3 (the short line skipped)", len(socks))
	}
	want := []struct {
		state string
		uid   uint32
		inode uint64
		kind  sockets.Kind
	}{{"LISTEN", 108, 4242, sockets.KindListening}, {"ESTABLISHED", 1000, 4343, sockets.KindEstablished}, {"TIME_WAIT", 0, 0, sockets.KindOther}}
	for i, w := range want {
		s := socks[i]
		if s.State != w.state || s.UID != w.uid || s.Inode != w.inode || s.Kind() != w.kind || s.LPort == 0 {
			t.Errorf("row %d: %+v, want %+v", i, s, w)
		}
	}

	udp := "header\n   5: 00000000:0044 00000000:0000 07 00000000:00000000 00:00000000 00000000 0 0 77 2 0 0\n" +
		"   6: 0100007F:9000 0100007F:0035 01 00000000:00000000 00:00000000 00000000 0 0 78 2 0 0\n"
	socks, err = parseProcNet([]byte(udp), procNetTable{"udp", sockets.UDP, 4})
	if err != nil || len(socks) != 2 {
		t.Fatalf("udp: %v, %d sockets", err, len(socks))
	}
	if socks[0].State != sockets.StateUnconnected || !socks[0].IsListening() {
		t.Errorf("unconnected UDP: state %q", socks[0].State)
	}
	if socks[1].State != sockets.StateEstablished || socks[1].Kind() != sockets.KindEstablished {
		t.Errorf("connected UDP: state %q", socks[1].State)
	}

	if _, err := parseProcNet([]byte("h\n 0: 0100007F:0CEA zz:0000 0A 0 0 0 0 0 1\n"), procNetTable{"tcp", sockets.TCP, 4}); err == nil {
		t.Error("a corrupt address gave no error")
	}
}

func TestSystemdUnitFromCgroup(t *testing.T) {
	cases := map[string]string{
		"0::/system.slice/nginx.service\n":                           "nginx.service",
		"0::/user.slice/user-1000.slice/session-3.scope\n":           "session-3.scope",
		"12:cpu:/\n1:name=systemd:/system.slice/ssh.service\n0::/\n": "ssh.service",
		"0::/system.slice/docker-0123abcd.scope/init.scope\n":        "init.scope",
		"0::/\n":                               "",
		"4:memory:/process_api/80b877\n0::/\n": "",
		"0::/kubepods/besteffort/pod1/0123\n":  "",
		"garbage":                              "",
		"0::/user.slice/user-0.slice/user@0.service/app.slice/foo.scope": "foo.scope",
	}
	for in, want := range cases {
		if got := systemdUnitFromCgroup(in); got != want {
			t.Errorf("%q: got %q, want %q", in, got, want)
		}
	}
}
