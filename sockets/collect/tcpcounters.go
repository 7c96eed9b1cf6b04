//go:build linux

package collect

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/portwatch/portwatch/sockets"
)

// maxCounterFile bounds what is read of /proc/PID/net/snmp and netstat:
// they are a few kilobytes; a kernel that wrote more is not believed.
const maxCounterFile = 64 << 10

// readTCPCounters reads a namespace's TCP counters through one of its
// processes (dir is /proc/self or /proc/PID). ok is false when the files
// cannot be read (the process is gone, or another user's as non-root).
func readTCPCounters(dir string) (c sockets.TCPCounters, ok bool) {
	snmp, err1 := readCounterFile(filepath.Join(dir, "net/snmp"), "Tcp")
	ext, err2 := readCounterFile(filepath.Join(dir, "net/netstat"), "TcpExt")
	if err1 != nil || err2 != nil {
		return c, false
	}
	c.OutRsts, c.PassiveOpens = snmp["OutRsts"], snmp["PassiveOpens"]
	c.EmbryonicRsts, c.ListenDrops, c.ListenOverflows = ext["EmbryonicRsts"], ext["ListenDrops"], ext["ListenOverflows"]
	return c, true
}

// wantedCounters are the only names kept: the files hold a hundred and more.
var wantedCounters = map[string]bool{"OutRsts": true, "PassiveOpens": true, "EmbryonicRsts": true, "ListenDrops": true, "ListenOverflows": true}

// readCounterFile parses the two lines of one section ("Tcp: names..." and
// "Tcp: values...") of a /proc/net counter file into the wanted counters.
func readCounterFile(path, section string) (map[string]uint64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxCounterFile))
	if err != nil {
		return nil, err
	}
	return parseCounters(data, section), nil
}

// parseCounters reads the section's header and value lines; a value that
// is not a number, or a missing line, leaves its counter out.
func parseCounters(data []byte, section string) map[string]uint64 {
	out := map[string]uint64{}
	prefix := section + ":"
	var names []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, prefix) {
			continue
		}
		fields := strings.Fields(line[len(prefix):])
		if names == nil {
			names = fields
			continue
		}
		for i, v := range fields {
			if i < len(names) && wantedCounters[names[i]] {
				if n, err := strconv.ParseUint(v, 10, 64); err == nil {
					out[names[i]] = n
				}
			}
		}
		break
	}
	return out
}

// readTCPStats reads the counters of every namespace that has a listener,
// through one of its processes, as the firewalls are read.
func (l *Live) readTCPStats(socks []sockets.Socket) map[uint64]sockets.TCPCounters {
	out := map[uint64]sockets.TCPCounters{}
	for i := range socks {
		s := &socks[i]
		if _, done := out[s.NetnsInode]; done || !s.IsListening() {
			continue
		}
		dir := filepath.Join(l.procRoot, "self")
		if s.NetnsInode != l.netns.self {
			members := l.members[s.NetnsInode]
			if len(members) == 0 {
				continue
			}
			dir = filepath.Join(l.procRoot, strconv.Itoa(int(members[0])))
		}
		if c, ok := readTCPCounters(dir); ok {
			c.Netns = s.Netns
			out[s.NetnsInode] = c
		}
	}
	return out
}
