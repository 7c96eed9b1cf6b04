package baseline

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/portwatch/portwatch/sockets"
)

// TestAnyProtocol: the README allows * in every field, the protocol too:
// such a line expects TCP and UDP alike, reads back as *, and is missing
// only when neither answers.
func TestAnyProtocol(t *testing.T) {
	b, err := Parse(strings.NewReader("host  *  all  53  *  *\n*  *  *  *  /usr/bin/python3.11  *\n"), "b")
	if err != nil {
		t.Fatal(err)
	}
	for _, proto := range []sockets.Proto{sockets.TCP, sockets.UDP} {
		if st := b.Check(listener(proto, "0.0.0.0", 53, sshd)).Status; st != Expected {
			t.Errorf("%v on 53 against proto *: %v, want expected", proto, st)
		}
		if st := b.Check(listener(proto, "127.0.0.1", 4000, python)).Status; st != Expected {
			t.Errorf("python3 on %v against * * * *: %v, want expected", proto, st)
		}
	}
	if st := b.Check(listener(sockets.TCP, "0.0.0.0", 54, sshd)).Status; st != Changed {
		t.Errorf("sshd on another port: %v, want CHANGED (line 2 names every place, for python3)", st)
	}
	if m := b.Missing([]*sockets.Socket{listener(sockets.UDP, "0.0.0.0", 53, sshd)}); len(m) != 1 || m[0].Line != 2 {
		t.Errorf("with udp 53 listening, missing %v; want line 2 only", m)
	}
	if w := b.Entries[0].ProtoWord(); w != "*" || !strings.Contains(b.Entries[0].String(), "host  *  all  53") {
		t.Errorf("the entry reads back as %q (%q)", b.Entries[0].String(), w)
	}
}

// TestFieldsAreCleaned: raw ESC and C1 bytes of the file, in a field or in
// a mistake, come back as visible escapes, never as themselves.
func TestFieldsAreCleaned(t *testing.T) {
	raw := "host tcp all 22 /usr/sbin/\x1b]0;owned\x07sshd \xc2\x9b31mroot\n"
	b, err := Parse(strings.NewReader(raw), "b")
	if err != nil {
		t.Fatal(err)
	}
	e := b.Entries[0]
	if e.Program != `/usr/sbin/\x1b]0;owned\x07sshd` || e.User != `\x9b31mroot` {
		t.Errorf("program %q, user %q: want the escapes written out", e.Program, e.User)
	}
	q := "host tcp all 22 \"\\x1b[2J\" root\n" // Go's escape inside quotes unquotes to ESC
	if b, err := Parse(strings.NewReader(q), "b"); err != nil || b.Entries[0].Program != `\x1b[2J` {
		t.Errorf("a quoted escape: %v %q", err, b.Entries[0].Program)
	}
	for _, bad := range []string{
		"host tcp all 22 \"\x1b[2J\xc2\x9b unterminated\n",
		"host tcp\x1b[2J all 22 a b\n",
		"host tcp all 22\xc2\x9b a b\n",
		"host tcp all\x1b 22 a b\n",
		"host tcp all 22 \"a\"\x1bb c\n",
	} {
		_, err := Parse(strings.NewReader(bad), "b")
		if err == nil || strings.ContainsAny(err.Error(), "\x1b\u009b") {
			t.Errorf("%q: %q, want an error without control characters", bad, err)
		}
	}
}

// TestBounds: more than MaxEntries entries, a file larger than MaxBytes, a
// line longer than 64 KiB: each one clear error, not a slow start.
func TestBounds(t *testing.T) {
	dir := t.TempDir()
	var sb strings.Builder
	for i := range MaxEntries + 1 {
		fmt.Fprintf(&sb, "host tcp all %d * *\n", 1+i%65535)
	}
	many := filepath.Join(dir, "many")
	os.WriteFile(many, []byte(sb.String()), 0o644)
	_, err := Load(many)
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Line != MaxEntries+1 || !strings.Contains(err.Error(), "more than 10000 entries") {
		t.Errorf("%d entries: %v", MaxEntries+1, err)
	}
	huge := filepath.Join(dir, "huge")
	os.WriteFile(huge, []byte(strings.Repeat("# a comment line of some length\n", MaxBytes/32+1)), 0o644)
	start := time.Now()
	if _, err := Load(huge); err == nil || err.Error() != "baseline "+huge+": larger than 4 MiB: a baseline holds at most 10000 entries" {
		t.Errorf("a file over 4 MiB: %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("refusing a file over 4 MiB took %s", d)
	}
	long := "host tcp all 22 /" + strings.Repeat("a", 70<<10) + " root\n"
	if _, err := Parse(strings.NewReader(long), "b"); err == nil || err.Error() != "b:1: a line longer than 64 KiB" {
		t.Errorf("a long line: %v", err)
	}
}

// TestLoadRefusesAFIFOAndALink: a FIFO at the path is refused at once (it
// would block the reader until someone writes), and so is a symbolic link.
func TestLoadRefusesAFIFOAndALink(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := Load(fifo); done <- err }()
	select {
	case err := <-done:
		if err == nil || err.Error() != "baseline "+fifo+": is a named pipe (FIFO), not a regular file" {
			t.Errorf("a FIFO: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Load of a FIFO still blocked after 5s")
	}
	real := filepath.Join(dir, "real")
	os.WriteFile(real, []byte("host tcp all 22 * *\n"), 0o644)
	link := filepath.Join(dir, "link")
	os.Symlink(real, link)
	if _, err := Load(link); err == nil || !strings.Contains(err.Error(), "is a symbolic link") {
		t.Errorf("a link: %v", err)
	}
}

// TestSaveRefusesALinkAndAMissingDirectory: saving onto a symbolic link is
// refused (the link and its target stay as they were), so is a path whose
// directory does not exist (none is made); the default file's directory is
// made, 0700.
func TestSaveRefusesALinkAndAMissingDirectory(t *testing.T) {
	dir := t.TempDir()
	b := FromListeners([]*sockets.Socket{listener(sockets.TCP, "0.0.0.0", 22, sshd)}, 32768, 60999)
	target := filepath.Join(dir, "target")
	os.WriteFile(target, []byte("# old\n"), 0o644)
	link := filepath.Join(dir, "link")
	os.Symlink(target, link)
	if err := b.Save(link, "h", time.Unix(0, 0)); err == nil || !strings.Contains(err.Error(), "is a symbolic link") {
		t.Errorf("saving onto a link: %v", err)
	}
	if fi, _ := os.Lstat(link); fi == nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Error("the link was replaced")
	}
	if text, _ := os.ReadFile(target); string(text) != "# old\n" {
		t.Errorf("the link's target changed: %q", text)
	}
	if err := b.Save(filepath.Join(dir, "a", "b", "baseline"), "h", time.Unix(0, 0)); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("saving into a missing directory: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "a")); err == nil {
		t.Error("a directory was made")
	}
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(dir, "config"))
	def, _ := DefaultPath()
	if err := b.Save(def, "h", time.Unix(0, 0)); err != nil {
		t.Fatalf("saving the default file: %v", err)
	}
	if st, err := os.Stat(filepath.Dir(def)); err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("the default file's directory: %v %v, want 0700", st.Mode(), err)
	}
}
