package baseline

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/safefile"
)

// FromListeners makes a baseline of the listeners: one entry per place and
// program, ports in the kernel's ephemeral range widened to the range (such
// a port is chosen anew each start).
func FromListeners(listeners []*sockets.Socket, ephemeralLow, ephemeralHigh uint16) *Baseline {
	b := &Baseline{}
	seen := map[string]bool{}
	for _, s := range listeners {
		e := Entry{Netns: s.Netns, Proto: s.Proto, Low: s.LPort, High: s.LPort, Program: Any, User: Any}
		switch {
		case s.Local.IsUnspecified():
			e.Address = AllInterfaces
		case s.Local.IsLoopback():
			e.Address = Loopback
		default:
			e.Address, e.Addr = s.Local.Unmap().String(), s.Local.Unmap()
		}
		if s.LPort >= ephemeralLow && s.LPort <= ephemeralHigh {
			e.Low, e.High = ephemeralLow, ephemeralHigh
		}
		if p := s.Process(); p != nil {
			e.Program = p.Name
			if p.Exe != "" {
				e.Program = p.Exe
			}
			e.User = p.User
		} else if s.User != "" {
			e.User = s.User
		}
		if e.Netns == "" {
			e.Netns = sockets.HostNetns
		}
		line := e.String()
		if !seen[line] {
			seen[line] = true
			b.Entries = append(b.Entries, e)
		}
	}
	slices.SortStableFunc(b.Entries, func(x, y Entry) int {
		return strings.Compare(x.sortKey(), y.sortKey())
	})
	return b
}

func (e *Entry) sortKey() string {
	return fmt.Sprintf("%s %d %05d %s", e.Netns, e.Proto, e.Low, e.Address)
}

// String is the entry as a line of the file.
func (e *Entry) String() string {
	port := strconv.Itoa(int(e.Low))
	switch {
	case e.anyPort || (e.Low == 0 && e.High == 65535):
		port = Any
	case e.High != e.Low:
		port += "-" + strconv.Itoa(int(e.High))
	}
	return strings.Join([]string{field(e.Netns), e.ProtoWord(), field(e.Address), port, field(e.Program), field(e.User)}, "  ")
}

// field quotes what would not read back as one field.
func field(s string) string {
	if s == "" || strings.ContainsAny(s, " \t#\"\\") || !strconv.CanBackquote(s) {
		return strconv.Quote(s)
	}
	return s
}

// Write writes the baseline as a file's text, with a header saying what it
// is and how to edit it.
func (b *Baseline) Write(w io.Writer, host string, at time.Time) error {
	var sb strings.Builder
	fmt.Fprintf(&sb, "# portwatch baseline: the listeners expected on %s, saved %s.\n", host, at.UTC().Format(time.RFC3339))
	sb.WriteString("# One listener a line. A port may be * or a range low-high; the address all, loopback, * or an IP;\n")
	sb.WriteString("# the program a path (with a /) or a name, or *; the user a name or *. Lines are compared in any order.\n")
	sb.WriteString("# netns  proto  address  port  program  user\n")
	for i := range b.Entries {
		sb.WriteString(b.Entries[i].String())
		sb.WriteByte('\n')
	}
	_, err := io.WriteString(w, sb.String())
	return err
}

// Save writes the baseline to path atomically (safefile.WriteAtomic: a
// temporary file, then a rename), mode 0644. Its directory must exist; only
// the default file's (DefaultPath) is made when missing, mode 0700, as the
// user's own configuration. A symbolic link, a directory or another user's
// file at path is refused, never replaced; so is a baseline of more than
// MaxEntries, which Load would refuse.
func (b *Baseline) Save(path, host string, at time.Time) error {
	if len(b.Entries) > MaxEntries {
		return fmt.Errorf("%d entries: a baseline holds at most %d", len(b.Entries), MaxEntries)
	}
	if def, err := DefaultPath(); err == nil && path == def {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return unwrapPathError(err)
		}
	}
	err := safefile.WriteAtomic(path, 0o644, func(w io.Writer) error { return b.Write(w, host, at) })
	if err != nil {
		return err
	}
	b.Path = path
	return nil
}
