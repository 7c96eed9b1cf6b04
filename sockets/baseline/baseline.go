// Package baseline is what a machine is expected to listen on: a plain
// text file, diff-friendly and hand-editable, saved from a snapshot and
// compared with every poll. A listener the file does not name is
// UNEXPECTED, one on an expected port with another program or user is
// CHANGED, and an expected listener that is gone is MISSING.
//
// The file, one listener a line, fields apart by spaces, # to the end of a
// line is a comment:
//
//	# netns  proto  address    port         program                 user
//	host     tcp    all        22           /usr/sbin/sshd          root
//	host     tcp    loopback   6379         redis-server            redis
//	host     udp    all        32768-60999  /usr/sbin/avahi-daemon  avahi
//	*        tcp    *          *            /usr/bin/python3        *
//
// netns is a namespace label as portwatch shows it (host, an ip netns name,
// docker:0123456789ab) or *; proto is tcp, udp or *; address is all (every
// interface), loopback, an IP address, or *; port is a number, a range
// low-high, or *; program is an executable's path (it has a /) or a
// program's name, or *; user is a user name or *. A field holding a space
// or a # is written in double quotes, with Go's escapes.
//
// The file is text a user controls, read by a watchdog that may run as
// root: it is opened as safefile judges (not a link, a FIFO or another
// user's file), it holds at most MaxBytes and MaxEntries (a bigger one is
// refused in one line, rather than costing every poll), and every field is
// cleaned (sockets/clean) as it is parsed, so no control character of the
// file reaches a screen, a JSON document or an error message.
package baseline

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/clean"
	"github.com/portwatch/portwatch/sockets/safefile"
)

// The bounds of a baseline file. A machine expects tens of listeners; a
// file of a million lines (once --once's 10 s and 2.3 GB) is a mistake or
// an attack, and is refused in one line.
const (
	MaxBytes   = 4 << 20 // 4 MiB
	MaxEntries = 10000
	maxLine    = 64 << 10 // a line, quoted paths and all
)

// Any is the word that matches everything in a field.
const Any = "*"

// Address classes, besides a literal address.
const (
	AllInterfaces = "all"
	Loopback      = "loopback"
)

// Entry is one expected listener.
type Entry struct {
	Line     int // where it is in its file, for messages
	Netns    string
	Proto    sockets.Proto
	Address  string // all, loopback, *, or an address (Addr holds it)
	Addr     netip.Addr
	Low      uint16 // the port, or a range; 0-65535 for *
	High     uint16
	Program  string
	User     string
	anyPort  bool
	anyNetns bool
	anyProto bool // proto *: Proto is 0
}

// ProtoWord is the entry's protocol as its file says it: tcp, udp or *.
func (e *Entry) ProtoWord() string {
	if e.anyProto {
		return Any
	}
	return e.Proto.String()
}

// Baseline is a file's entries.
type Baseline struct {
	Path    string
	Entries []Entry
}

// ParseError names the file and line of a mistake.
type ParseError struct {
	Path string
	Line int
	Msg  string
}

func (e *ParseError) Error() string { return fmt.Sprintf("%s:%d: %s", e.Path, e.Line, e.Msg) }

// Load reads a baseline file. A file that cannot be read, that safefile
// refuses, that is larger than MaxBytes, or a line that does not parse, is
// an error naming the file (and the line).
func Load(path string) (*Baseline, error) {
	f, err := safefile.OpenRead(path)
	if err != nil {
		return nil, fmt.Errorf("baseline %s: %w", path, unwrapPathError(err))
	}
	defer f.Close()
	tooBig := fmt.Errorf("baseline %s: larger than %d MiB: a baseline holds at most %d entries", path, MaxBytes>>20, MaxEntries)
	if st, err := f.Stat(); err == nil && st.Size() > MaxBytes {
		return nil, tooBig
	}
	lr := &io.LimitedReader{R: f, N: MaxBytes + 1} // it may grow while it is read
	b, err := Parse(lr, path)
	if err == nil && lr.N == 0 {
		return nil, tooBig
	}
	return b, err
}

func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// Parse reads a baseline from r; path names it in errors.
func Parse(r io.Reader, path string) (*Baseline, error) {
	b := &Baseline{Path: path}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), maxLine)
	n := 0
	for sc.Scan() {
		n++
		fields, err := split(sc.Text())
		if err != nil {
			return nil, &ParseError{path, n, err.Error()}
		}
		if len(fields) == 0 {
			continue
		}
		if len(b.Entries) == MaxEntries {
			return nil, &ParseError{path, n, fmt.Sprintf("more than %d entries: a baseline holds at most %d", MaxEntries, MaxEntries)}
		}
		e, err := parseEntry(fields)
		if err != nil {
			return nil, &ParseError{path, n, err.Error()}
		}
		e.Line = n
		b.Entries = append(b.Entries, e)
	}
	switch err := sc.Err(); {
	case errors.Is(err, bufio.ErrTooLong):
		return nil, &ParseError{path, n + 1, fmt.Sprintf("a line longer than %d KiB", maxLine>>10)}
	case err != nil:
		return nil, &ParseError{path, n + 1, err.Error()}
	}
	return b, nil
}

// quoted is a piece of the file for an error message: cleaned, cut short,
// in double quotes.
func quoted(s string) string {
	c := clean.Text(s)
	if len(c) > 80 {
		c = clean.Cut(c, 80) + "..."
	}
	return `"` + c + `"`
}

// split cuts a line into fields: spaces apart, "quoted" fields unquoted,
// everything from an unquoted # on dropped. Each field is cleaned: what
// collection reads is cleaned the same way, so they still compare.
func split(line string) ([]string, error) {
	var out []string
	for {
		line = strings.TrimLeft(line, " \t")
		if line == "" || line[0] == '#' {
			return out, nil
		}
		if line[0] == '"' {
			q, err := strconv.QuotedPrefix(line)
			if err != nil {
				return nil, fmt.Errorf("unterminated quoted field %s", quoted(line))
			}
			v, _ := strconv.Unquote(q)
			out = append(out, clean.Text(v))
			line = line[len(q):]
			if line != "" && line[0] != ' ' && line[0] != '\t' {
				return nil, fmt.Errorf("a quoted field must be followed by a space: %s", quoted(line))
			}
			continue
		}
		end := strings.IndexAny(line, " \t#")
		if end < 0 {
			end = len(line)
		}
		out = append(out, clean.Text(line[:end]))
		line = line[end:]
	}
}

func parseEntry(f []string) (Entry, error) {
	if len(f) != 6 {
		return Entry{}, fmt.Errorf("want 6 fields (netns proto address port program user), found %d", len(f))
	}
	e := Entry{Netns: f[0], Address: f[2], Program: f[4], User: f[5], anyNetns: f[0] == Any}
	switch strings.ToLower(f[1]) {
	case "tcp":
		e.Proto = sockets.TCP
	case "udp":
		e.Proto = sockets.UDP
	case Any:
		e.anyProto = true
	default:
		return Entry{}, fmt.Errorf("protocol %s: want tcp, udp or *", quoted(f[1]))
	}
	switch f[2] {
	case AllInterfaces, Loopback, Any:
	default:
		a, err := netip.ParseAddr(f[2])
		if err != nil {
			return Entry{}, fmt.Errorf("address %s: want all, loopback, * or an IP address", quoted(f[2]))
		}
		e.Addr = a.Unmap()
	}
	lo, hi, err := parsePorts(f[3])
	if err != nil {
		return Entry{}, err
	}
	e.Low, e.High, e.anyPort = lo, hi, f[3] == Any
	return e, nil
}

func parsePorts(s string) (uint16, uint16, error) {
	if s == Any {
		return 0, 65535, nil
	}
	bad := fmt.Errorf("port %s: want a number from 1 to 65535, a range low-high, or *", quoted(s))
	lo, hi, isRange := strings.Cut(s, "-")
	l, err := strconv.ParseUint(lo, 10, 16)
	if err != nil || l == 0 {
		return 0, 0, bad
	}
	if !isRange {
		return uint16(l), uint16(l), nil
	}
	h, err := strconv.ParseUint(hi, 10, 16)
	if err != nil || h < l {
		return 0, 0, bad
	}
	return uint16(l), uint16(h), nil
}

// DefaultPath is where the baseline lives when no file is named: the
// user's configuration directory ($XDG_CONFIG_HOME or ~/.config), under
// portwatch/baseline.
func DefaultPath() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "portwatch", "baseline"), nil
}
