//go:build linux

package collect

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"

	"github.com/portwatch/portwatch/sockets"
)

// procNetTable is one of the kernel's socket tables under /proc/net.
type procNetTable struct {
	file   string
	proto  sockets.Proto
	family int
}

var procNetTables = []procNetTable{
	{"tcp", sockets.TCP, 4},
	{"tcp6", sockets.TCP, 6},
	{"udp", sockets.UDP, 4},
	{"udp6", sockets.UDP, 6},
}

// readProcNet lists the sockets of the network namespace whose /proc/.../net
// directory is dir. We parse the tables ourselves rather than through
// gopsutil's net.Connections: it merges rows with equal addresses and state
// (two SO_REUSEPORT listeners become one) and drops the inode and uid that
// portwatch needs to find every owner. A missing table (no IPv6) is skipped.
func readProcNet(dir string, dualStackDefault bool) ([]sockets.Socket, error) {
	var all []sockets.Socket
	for _, t := range procNetTables {
		data, err := os.ReadFile(filepath.Join(dir, t.file))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("reading socket table: %w", err)
		}
		socks, err := parseProcNet(data, t)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Join(dir, t.file), err)
		}
		// The tables do not say whether a program set IPV6_V6ONLY: an IPv6
		// wildcard listener's dual-stack flag is the sysctl's default, and
		// marked as the guess it is.
		for i := range socks {
			s := &socks[i]
			if s.Family == 6 && s.IsListening() && s.Local.IsUnspecified() {
				s.DualStack, s.DualStackGuessed = dualStackDefault, true
			}
		}
		all = append(all, socks...)
	}
	return all, nil
}

// parseProcNet parses one table: a header line, then one socket a line:
// "sl local rem st tx:rx tr:when retrnsmt uid timeout inode ...".
func parseProcNet(data []byte, t procNetTable) ([]sockets.Socket, error) {
	var socks []sockets.Socket
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 512), 64*1024)
	first := true
	for sc.Scan() {
		if first {
			first = false
			continue
		}
		f := bytes.Fields(sc.Bytes())
		if len(f) < 10 {
			continue
		}
		local, lport, err := parseHexEndpoint(f[1])
		if err != nil {
			return nil, err
		}
		remote, rport, err := parseHexEndpoint(f[2])
		if err != nil {
			return nil, err
		}
		st, err := strconv.ParseUint(string(f[3]), 16, 8)
		if err != nil {
			return nil, fmt.Errorf("bad state %q", f[3])
		}
		uid, _ := strconv.ParseUint(string(f[7]), 10, 32)
		inode, _ := strconv.ParseUint(string(f[9]), 10, 64)
		s := sockets.Socket{
			Proto: t.proto, Family: t.family,
			Local: local, LPort: lport, Remote: remote, RPort: rport,
			UID: uint32(uid), Inode: inode,
		}
		s.State = stateName(t.proto, st)
		s.Timer, s.Expires = parseProcTimer(f[5])
		socks = append(socks, s)
	}
	return socks, sc.Err()
}

// parseProcTimer reads the "tr:tm->when" column: the timer running, as
// sock_diag numbers it, and when it fires in clock ticks (USER_HZ, 100 a
// second on Linux), as milliseconds. Anything else reads as no timer.
func parseProcTimer(b []byte) (sockets.Timer, uint32) {
	tr, when, ok := bytes.Cut(b, []byte(":"))
	if !ok {
		return sockets.TimerNone, 0
	}
	kind, err1 := strconv.ParseUint(string(tr), 16, 8)
	ticks, err2 := strconv.ParseUint(string(when), 16, 32)
	if err1 != nil || err2 != nil || kind == 0 {
		return sockets.TimerNone, 0
	}
	return sockets.Timer(kind), uint32(min(ticks*10, 1<<32-1))
}

// parseHexEndpoint decodes "0100007F:1F90" (IPv4) or a 32-digit IPv6 address:
// the kernel prints each 32-bit word of the address in host byte order.
// IPv4-mapped IPv6 addresses are shown as plain IPv4, as users expect.
func parseHexEndpoint(b []byte) (netip.Addr, uint16, error) {
	i := bytes.IndexByte(b, ':')
	if i < 0 {
		return netip.Addr{}, 0, fmt.Errorf("bad endpoint %q", b)
	}
	port, err := strconv.ParseUint(string(b[i+1:]), 16, 16)
	if err != nil {
		return netip.Addr{}, 0, fmt.Errorf("bad port in %q", b)
	}
	raw := make([]byte, hex.DecodedLen(i))
	if _, err := hex.Decode(raw, b[:i]); err != nil || (len(raw) != 4 && len(raw) != 16) {
		return netip.Addr{}, 0, fmt.Errorf("bad address in %q", b)
	}
	var ip [16]byte
	for w := 0; w < len(raw)/4; w++ {
		binary.BigEndian.PutUint32(ip[w*4:], binary.NativeEndian.Uint32(raw[w*4:]))
	}
	if len(raw) == 4 {
		return netip.AddrFrom4([4]byte(ip[:4])), uint16(port), nil
	}
	return netip.AddrFrom16(ip).Unmap(), uint16(port), nil
}
