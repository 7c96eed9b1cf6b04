//go:build linux

package collect

import (
	"bytes"
	"errors"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"sync"

	"github.com/portwatch/portwatch/sockets"
	"golang.org/x/sys/unix"
)

// maxCounterFile bounds what is read of /proc/PID/net/snmp and netstat:
// they are a few kilobytes; a kernel that wrote more is not believed.
const maxCounterFile = 64 << 10

// counterBufs holds the buffers the counter files are read into, kept
// from poll to poll: a namespace's two files were read into new buffers,
// scanned by a bufio.Scanner and split into a hundred strings each, every
// poll.
var counterBufs = sync.Pool{New: func() any { b := make([]byte, 0, 8<<10); return &b }}

// readTCPCounters reads a namespace's TCP counters through one of its
// processes (dir is /proc/self or /proc/PID). ok is false when the files
// cannot be read (the process is gone, or another user's as non-root).
func readTCPCounters(dir string) (c sockets.TCPCounters, ok bool) {
	bp := counterBufs.Get().(*[]byte)
	defer counterBufs.Put(bp)
	for _, f := range [...]struct{ name, section string }{{"net/snmp", "Tcp"}, {"net/netstat", "TcpExt"}} {
		data, err := readCounterFile(dir+"/"+f.name, (*bp)[:0])
		*bp = data[:0]
		if err != nil {
			return sockets.TCPCounters{}, false
		}
		parseCounters(data, f.section, &c)
	}
	return c, true
}

// readCounterFile reads a counter file into buf, at most maxCounterFile
// bytes of it, through the system calls themselves (an *os.File is an
// allocation and a finalizer a file).
func readCounterFile(path string, buf []byte) ([]byte, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return buf, err
	}
	defer unix.Close(fd)
	for len(buf) < maxCounterFile {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, min(cap(buf), maxCounterFile-len(buf)))
		}
		n, err := unix.Read(fd, buf[len(buf):min(cap(buf), maxCounterFile)])
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return buf, err
		}
		if n == 0 {
			break
		}
		buf = buf[:len(buf)+n]
	}
	return buf, nil
}

// parseCounters reads the section's header and value lines ("Tcp: names"
// then "Tcp: values") into the counters portwatch keeps; a value that is
// not a number, or a missing line, leaves its counter as it was. The file
// holds a hundred counters and more: none is kept but these, and nothing
// is allocated.
func parseCounters(data []byte, section string, c *sockets.TCPCounters) {
	names, values, found := counterLines(data, section)
	if !found {
		return
	}
	for {
		var name, value []byte
		name, names = nextField(names)
		value, values = nextField(values)
		if name == nil || value == nil {
			return
		}
		var dst *uint64
		switch string(name) {
		case "OutRsts":
			dst = &c.OutRsts
		case "PassiveOpens":
			dst = &c.PassiveOpens
		case "EmbryonicRsts":
			dst = &c.EmbryonicRsts
		case "ListenDrops":
			dst = &c.ListenDrops
		case "ListenOverflows":
			dst = &c.ListenOverflows
		default:
			continue
		}
		if n, ok := parseDecimal(value); ok {
			*dst = n
		}
	}
}

// counterLines finds the section's first two lines, without their
// "section:" prefix.
func counterLines(data []byte, section string) (names, values []byte, found bool) {
	n := 0
	for len(data) > 0 && n < 2 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		if len(line) <= len(section) || line[len(section)] != ':' || string(line[:len(section)]) != section {
			continue
		}
		if n == 0 {
			names = line[len(section)+1:]
		} else {
			values = line[len(section)+1:]
		}
		n++
	}
	return names, values, n == 2
}

// nextField is the first space-separated field of b and what follows it;
// nil when there is none.
func nextField(b []byte) (field, rest []byte) {
	b = bytes.TrimLeft(b, " \t")
	if len(b) == 0 {
		return nil, nil
	}
	end := bytes.IndexAny(b, " \t")
	if end < 0 {
		end = len(b)
	}
	return b[:end], b[end:]
}

// parseDecimal is strconv.ParseUint(b, 10, 64) of a byte slice, without
// making it a string.
func parseDecimal(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	var n uint64
	for _, ch := range b {
		if ch < '0' || ch > '9' {
			return 0, false
		}
		d := uint64(ch - '0')
		if n > (math.MaxUint64-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	return n, true
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
