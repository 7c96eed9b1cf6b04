//go:build linux

package collect

import (
	"encoding/binary"
	"testing"

	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/clean"
	"golang.org/x/sys/unix"
)

// The parsers read what the kernel and other programs wrote: they must
// never panic, whatever the bytes, and every string they return must be
// clean text (as clean.Text leaves it). Seed corpora are under
// testdata/fuzz; run one with `go test -fuzz FuzzParseProcNet ./sockets/collect`.

// mustBeClean fails the fuzz run for a string clean.Text would change.
func mustBeClean(t *testing.T, what, s string) {
	t.Helper()
	if clean.Text(s) != s {
		t.Fatalf("%s %q is not clean", what, s)
	}
}

func checkSockets(t *testing.T, socks []sockets.Socket) {
	t.Helper()
	for _, s := range socks {
		mustBeClean(t, "state", s.State)
		mustBeClean(t, "namespace", s.Netns)
		if s.Family != 4 && s.Family != 6 {
			t.Fatalf("family %d", s.Family)
		}
	}
}

func FuzzParseProcNet(f *testing.F) {
	f.Add([]byte("  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"+
		"   0: 0100007F:0CEA 00000000:0000 0A 00000000:00000000 00:00000000 00000000   108        0 4242 1 0\n"), uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, table uint8) {
		socks, err := parseProcNet(data, procNetTables[int(table)%len(procNetTables)])
		if err == nil {
			checkSockets(t, socks)
		}
	})
}

func FuzzParseHexEndpoint(f *testing.F) {
	f.Add([]byte("0100007F:1F90"))
	f.Add([]byte("0000000000000000FFFF00000100007F:D431"))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, _, err := parseHexEndpoint(b)
		if err == nil && !a.IsValid() {
			t.Fatalf("%q: no error and no address", b)
		}
	})
}

func FuzzParseDiagMessages(f *testing.F) {
	f.Add([]byte{}, uint8(0), uint32(1))
	// A connection with its tcp_info, as one netlink message.
	msg := diagMsg(1, 1, 200, 0, 4096, 77, tcpInfoBytes(tiSndWnd+4))
	hdr := make([]byte, nlmsgHeaderLen)
	binary.NativeEndian.PutUint32(hdr[0:], uint32(nlmsgHeaderLen+len(msg)))
	binary.NativeEndian.PutUint16(hdr[4:], unix.SOCK_DIAG_BY_FAMILY)
	binary.NativeEndian.PutUint32(hdr[8:], 1)
	f.Add(append(hdr, msg...), uint8(1), uint32(1))
	f.Fuzz(func(t *testing.T, data []byte, query uint8, seq uint32) {
		qs := []diagQuery{
			{typ: tcpDiagGetSock, proto: unix.IPPROTO_TCP, combined: true},
			byFamily(unix.AF_INET, unix.IPPROTO_TCP), byFamily(unix.AF_INET6, unix.IPPROTO_UDP),
		}
		var socks []sockets.Socket
		parseDiagMessages(data, qs[int(query)%len(qs)], seq, &socks, nil)
		checkSockets(t, socks)
		if len(data) >= nlmsgHeaderLen {
			s, ok := parseDiagMsg(data[nlmsgHeaderLen:], unix.IPPROTO_TCP, nil)
			if ok {
				checkSockets(t, []sockets.Socket{s})
			}
		}
	})
}

func FuzzParseStat(f *testing.F) {
	f.Add([]byte("1234 (a) b) S 1 1234 1234 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 987654 1 1 1 1 1 1 1 1 1 1 1 1 1 17 0 0 0 0 0 0\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		comm, _, err := parseStat(data)
		if err == nil {
			mustBeClean(t, "name", comm)
		}
	})
}

func FuzzSystemdUnitFromCgroup(f *testing.F) {
	f.Add("0::/system.slice/nginx.service\n")
	f.Fuzz(func(t *testing.T, cgroup string) {
		mustBeClean(t, "unit", systemdUnitFromCgroup(cgroup))
	})
}

func FuzzContainerFromCgroup(f *testing.F) {
	f.Add("0::/system.slice/docker-0123456789abcdef0123.scope\n")
	f.Fuzz(func(t *testing.T, cgroup string) {
		l := containerFromCgroup(cgroup)
		mustBeClean(t, "container label", l)
	})
}
