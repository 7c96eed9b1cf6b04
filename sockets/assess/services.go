package assess

import (
	"bufio"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/portwatch/portwatch/sockets"
)

// serviceKey names a port of one protocol.
type serviceKey struct {
	port  uint16
	proto sockets.Proto
}

// parseServices reads a services(5) database: "name port/proto [aliases] [# comment]".
// Malformed lines are skipped; the first name given for a port wins, as in
// getservbyport(3).
func parseServices(r io.Reader) map[serviceKey]string {
	names := map[serviceKey]string{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		portStr, proto, ok := strings.Cut(f[1], "/")
		if !ok || (proto != "tcp" && proto != "udp") {
			continue
		}
		port, err := strconv.ParseUint(portStr, 10, 16)
		if err != nil || port == 0 {
			continue
		}
		k := serviceKey{uint16(port), sockets.TCP}
		if proto == "udp" {
			k.proto = sockets.UDP
		}
		if _, seen := names[k]; !seen {
			names[k] = f[0]
		}
	}
	return names
}

// loadServices reads the system's service database; an absent or unreadable
// file gives an empty one.
func loadServices(path string) map[serviceKey]string {
	f, err := os.Open(path)
	if err != nil {
		return map[serviceKey]string{}
	}
	defer f.Close()
	return parseServices(f)
}

// PortRange is an inclusive range of ports.
type PortRange struct{ Low, High uint16 }

// Contains reports whether port lies in the range.
func (r PortRange) Contains(port uint16) bool { return port >= r.Low && port <= r.High }

// defaultEphemeral is Linux's default net.ipv4.ip_local_port_range.
var defaultEphemeral = PortRange{32768, 60999}

// readEphemeralRange reads the kernel's local port range, falling back to the
// default when the file is absent or odd.
func readEphemeralRange(path string) PortRange {
	f := strings.Fields(readFirstLine(path))
	if len(f) != 2 {
		return defaultEphemeral
	}
	lo, err1 := strconv.ParseUint(f[0], 10, 16)
	hi, err2 := strconv.ParseUint(f[1], 10, 16)
	if err1 != nil || err2 != nil || lo == 0 || lo > hi {
		return defaultEphemeral
	}
	return PortRange{uint16(lo), uint16(hi)}
}

// readFirstLine reads a small /proc/sys file, "" when it cannot be read.
func readFirstLine(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}
