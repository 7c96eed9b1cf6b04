package baseline

import (
	"bytes"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/clean"
)

var (
	sshd   = &sockets.Process{PID: 1, Name: "sshd", Exe: "/usr/sbin/sshd", User: "root"}
	redis  = &sockets.Process{PID: 2, Name: "redis-server", Exe: "/usr/bin/redis-server", User: "redis"}
	master = &sockets.Process{PID: 3, Name: "nginx", Exe: "/usr/sbin/nginx", User: "root"}
	worker = &sockets.Process{PID: 4, Name: "nginx", Exe: "/usr/sbin/nginx", User: "www-data"}
	python = &sockets.Process{PID: 5, Name: "python3", Exe: "/usr/bin/python3.11", User: "alice"}
)

func listener(proto sockets.Proto, addr string, port uint16, owners ...*sockets.Process) *sockets.Socket {
	s := &sockets.Socket{Proto: proto, Family: 4, Local: netip.MustParseAddr(addr), LPort: port, State: sockets.StateListen,
		Netns: sockets.HostNetns, Owners: owners, OwnerStatus: sockets.OwnerKnown}
	if len(owners) == 0 {
		s.OwnerStatus, s.User = sockets.OwnerHidden, "root"
	}
	return s
}

const sample = `# a comment line
host  tcp  all       22     /usr/sbin/sshd  root   # sshd
host  tcp  loopback  6379   redis-server    redis
host  tcp  all       80     nginx           www-data
*     udp  all       32768-60999  *         *
host  tcp  10.0.0.5  8443   "/opt/my app/bin/srv"  app

`

func TestParseAndCheck(t *testing.T) {
	b, err := Parse(strings.NewReader(sample), "baseline")
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Entries) != 5 || b.Entries[4].Program != "/opt/my app/bin/srv" || b.Entries[1].Line != 3 {
		t.Fatalf("entries %+v", b.Entries)
	}
	cases := []struct {
		name string
		s    *sockets.Socket
		want Status
	}{
		{"sshd as saved", listener(sockets.TCP, "0.0.0.0", 22, sshd), Expected},
		{"redis on loopback", listener(sockets.TCP, "127.0.0.1", 6379, redis), Expected},
		{"redis on ::1 is loopback too", listener(sockets.TCP, "::1", 6379, redis), Expected},
		{"redis moved to all interfaces", listener(sockets.TCP, "0.0.0.0", 6379, redis), Unexpected},
		{"python3 on ssh's port", listener(sockets.TCP, "0.0.0.0", 22, python), Changed},
		{"sshd as another user", listener(sockets.TCP, "0.0.0.0", 22, &sockets.Process{Name: "sshd", Exe: "/usr/sbin/sshd", User: "nobody"}), Changed},
		{"a pre-fork server: a worker's user matches", listener(sockets.TCP, "0.0.0.0", 80, master, worker), Expected},
		{"an ephemeral UDP port", listener(sockets.UDP, "0.0.0.0", 40000, python), Expected},
		{"a UDP port below the range", listener(sockets.UDP, "0.0.0.0", 5353, python), Unexpected},
		{"a new port", listener(sockets.TCP, "0.0.0.0", 4444, python), Unexpected},
		{"hidden owner on an expected place", listener(sockets.TCP, "0.0.0.0", 22), Expected},
	}
	for _, c := range cases {
		if got := b.Check(c.s).Status; got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
	missing := b.Missing([]*sockets.Socket{listener(sockets.TCP, "0.0.0.0", 22, sshd), listener(sockets.TCP, "0.0.0.0", 22, python)})
	var lines []int
	for _, e := range missing {
		lines = append(lines, e.Line)
	}
	if len(lines) != 4 || lines[0] != 3 {
		t.Errorf("missing lines %v, want 3 4 5 6", lines)
	}
}

func TestMistakesNameTheFileAndLine(t *testing.T) {
	for _, c := range []struct{ text, want string }{
		{"host tcp all 22 sshd", "b:1: want 6 fields"},
		{"# ok\nhost sctp all 22 sshd root", "b:2: protocol \"sctp\""},
		{"host tcp everywhere 22 sshd root", "b:1: address \"everywhere\""},
		{"host tcp all 0 sshd root", "b:1: port \"0\""},
		{"host tcp all 70000 sshd root", "b:1: port \"70000\""},
		{"host tcp all 9-3 sshd root", "b:1: port \"9-3\""},
		{"host tcp all 22 \"sshd root", "b:1: unterminated quoted field"},
		{"host tcp all 22 \"a\"b root", "b:1: a quoted field must be followed by a space"},
	} {
		_, err := Parse(strings.NewReader(c.text), "b")
		var pe *ParseError
		if !errors.As(err, &pe) || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.text, err, c.want)
		}
	}
	if _, err := Load(filepath.Join(t.TempDir(), "none")); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("a missing file: %v", err)
	}
}

// What is saved reads back, and every saved listener is expected by it.
func TestSaveReadsBackAndExpectsWhatItSaw(t *testing.T) {
	ls := []*sockets.Socket{
		listener(sockets.TCP, "0.0.0.0", 22, sshd),
		listener(sockets.TCP, "127.0.0.1", 6379, redis),
		listener(sockets.TCP, "0.0.0.0", 80, master, worker),
		listener(sockets.UDP, "0.0.0.0", 41234, python), // ephemeral
		listener(sockets.TCP, "10.0.0.5", 8443, &sockets.Process{Name: "srv", Exe: "/opt/my app/srv", User: "app"}),
		listener(sockets.TCP, "0.0.0.0", 2049), // owner hidden
	}
	path := filepath.Join(t.TempDir(), "baseline")
	if err := FromListeners(ls, 32768, 60999).Save(path, "web-01", time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	text, _ := os.ReadFile(path)
	if !strings.Contains(string(text), "udp  all  32768-60999  /usr/bin/python3.11  alice") || !strings.Contains(string(text), `"/opt/my app/srv"`) {
		t.Errorf("saved:\n%s", text)
	}
	b, err := Load(path)
	if err != nil {
		t.Fatalf("the saved file does not read back: %v\n%s", err, text)
	}
	for _, s := range ls {
		if st := b.Check(s).Status; st != Expected {
			t.Errorf("%s:%d is %v against the baseline saved from it", s.Local, s.LPort, st)
		}
	}
	if m := b.Missing(ls); len(m) != 0 {
		t.Errorf("%d entries missing right after saving", len(m))
	}
	var again bytes.Buffer
	b.Write(&again, "web-01", time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC))
	if again.String() != string(text) {
		t.Errorf("writing what was read changes it:\n%s\n---\n%s", text, again.String())
	}
}

func FuzzParse(f *testing.F) {
	f.Add(sample)
	f.Add("host tcp all 1-65535 \"a\\tb\" *")
	f.Add("host * all 22 /usr/bin/\x1b]0;x\x07y \xc2\x9bz")
	f.Fuzz(func(t *testing.T, text string) {
		b, err := Parse(strings.NewReader(text), "f")
		if err != nil {
			if msg := err.Error(); clean.Text(msg) != msg {
				t.Fatalf("a mistake's message is not clean text: %q", msg)
			}
			return
		}
		for _, e := range b.Entries {
			for _, f := range []string{e.Netns, e.Address, e.Program, e.User} {
				if clean.Text(f) != f {
					t.Fatalf("line %d: field %q is not clean text", e.Line, f)
				}
			}
		}
		var out bytes.Buffer
		b.Write(&out, "h", time.Unix(0, 0))
		b2, err := Parse(&out, "f2")
		if err != nil || len(b2.Entries) != len(b.Entries) {
			t.Fatalf("what was parsed does not write back: %v\n%s", err, out.String())
		}
	})
}
