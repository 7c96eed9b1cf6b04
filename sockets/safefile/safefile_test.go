package safefile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// nobody is the unprivileged owner the tests give files to.
const nobody = 65534

func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: the file is given to uid 65534 with chown")
	}
}

// wantRefused checks that err is a refusal whose reason contains want.
func wantRefused(t *testing.T, what string, err error, want string) {
	t.Helper()
	var r *RefusedError
	if !errors.As(err, &r) || !strings.Contains(err.Error(), want) {
		t.Errorf("%s: %v, want a refusal saying %q", what, err, want)
	}
}

// opens are the ways the package opens a path, each judged the same.
var opens = map[string]func(string) (*os.File, error){
	"OpenRead":   OpenRead,
	"OpenAppend": func(p string) (*os.File, error) { return OpenAppend(p, 0o600) },
}

// TestRefusesWhatIsNotAFileOfOurs: a symbolic link planted in a directory
// every user may write (pointing at a root-only file), a FIFO (without a
// writer: open would block), a directory, a socket, a device, a file owned
// by uid 65534, and a world-writable file are each refused with the reason,
// at once; the link's target is left untouched.
func TestRefusesWhatIsNotAFileOfOurs(t *testing.T) {
	dir := t.TempDir()
	shared := filepath.Join(dir, "shared")
	os.Mkdir(shared, 0o777)
	os.Chmod(shared, 0o777) // past the umask: every user may plant a name here
	secret := filepath.Join(dir, "secret")
	os.WriteFile(secret, []byte("root only\n"), 0o600)
	link := filepath.Join(shared, "events.jsonl")
	if err := os.Symlink(secret, link); err != nil {
		t.Fatal(err)
	}
	os.Lchown(link, nobody, nobody) // as a local user would have made it
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "sock")
	if fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM, 0); err == nil {
		defer syscall.Close(fd)
		if err := syscall.Bind(fd, &syscall.SockaddrUnix{Name: sock}); err != nil {
			t.Fatal(err)
		}
	}
	everyone := filepath.Join(dir, "everyone")
	os.WriteFile(everyone, nil, 0o600)
	os.Chmod(everyone, 0o666)

	cases := []struct{ path, want string }{
		{link, "is a symbolic link"},
		{fifo, "is a named pipe (FIFO), not a regular file"},
		{dir, "is a directory, not a regular file"},
		{sock, "is a socket, not a regular file"},
		{"/dev/null", "is a character device, not a regular file"},
		{everyone, "is writable by every user (mode 0666)"},
	}
	for name, open := range opens {
		for _, c := range cases {
			done := make(chan error, 1)
			go func() {
				f, err := open(c.path)
				if f != nil {
					f.Close()
				}
				done <- err
			}()
			select {
			case err := <-done:
				wantRefused(t, name+" "+c.path, err, c.want)
			case <-time.After(5 * time.Second):
				t.Fatalf("%s %s: still blocked after 5s", name, c.path)
			}
		}
	}
	if b, _ := os.ReadFile(secret); string(b) != "root only\n" {
		t.Errorf("the link's target was changed: %q", b)
	}
}

// TestRefusesAnotherUsersFile: as root, a file uid 65534 owns is refused,
// naming the owner; root's own files are used.
func TestRefusesAnotherUsersFile(t *testing.T) {
	needRoot(t)
	dir := t.TempDir()
	theirs := filepath.Join(dir, "theirs")
	os.WriteFile(theirs, []byte("x\n"), 0o644)
	if err := os.Chown(theirs, nobody, nobody); err != nil {
		t.Fatal(err)
	}
	for name, open := range opens {
		_, err := open(theirs)
		wantRefused(t, name, err, "is owned by uid 65534")
		if err != nil && !strings.Contains(err.Error(), "not by root") {
			t.Errorf("%s: %v, want it to say root uses only root's files", name, err)
		}
	}
	err := WriteAtomic(theirs, 0o644, func(w io.Writer) error { _, err := io.WriteString(w, "new\n"); return err })
	wantRefused(t, "WriteAtomic over it", err, "is owned by uid 65534")
	if b, _ := os.ReadFile(theirs); string(b) != "x\n" {
		t.Errorf("their file was replaced: %q", b)
	}

	ours := filepath.Join(dir, "ours")
	os.WriteFile(ours, []byte("hello\n"), 0o600)
	f, err := OpenRead(ours)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(f)
	f.Close()
	if string(b) != "hello\n" {
		t.Errorf("read %q", b)
	}
}

// TestOpenAppendCreatesPrivateAndAppends: a new file is made 0600 in an
// existing directory, an existing one of ours is appended to, and a missing
// directory is refused rather than made.
func TestOpenAppendCreatesPrivateAndAppends(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "log")
	for _, line := range []string{"one\n", "two\n"} {
		f, err := OpenAppend(path, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteString(line)
		f.Close()
	}
	if b, _ := os.ReadFile(path); string(b) != "one\ntwo\n" {
		t.Errorf("the file holds %q", b)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("a new file's mode is %v, want 0600", st.Mode().Perm())
	}
	_, err := OpenAppend(filepath.Join(dir, "nope", "log"), 0o600)
	wantRefused(t, "a missing directory", err, "directory "+dir+"/nope does not exist")
	if _, serr := os.Stat(filepath.Join(dir, "nope")); serr == nil {
		t.Error("the missing directory was made")
	}
	if _, err := OpenRead(filepath.Join(dir, "none")); !errors.Is(err, syscall.ENOENT) {
		t.Errorf("a missing file: %v, want ENOENT", err)
	}
}

// TestWriteAtomicRefusesALinkAndKeepsTheFileWhole: a symbolic link at the
// path is refused and left (with its target) as it was; a directory too; a
// regular file is replaced whole with the mode asked for; a write that
// fails leaves the old file and no temporary one.
func TestWriteAtomicRefusesALinkAndKeepsTheFileWhole(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "target")
	os.WriteFile(target, []byte("old\n"), 0o644)
	link := filepath.Join(dir, "link")
	os.Symlink(target, link)
	write := func(text string) func(io.Writer) error {
		return func(w io.Writer) error { _, err := io.WriteString(w, text); return err }
	}
	wantRefused(t, "a link", WriteAtomic(link, 0o644, write("new\n")), "is a symbolic link")
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the link was replaced: %v %v", fi, err)
	}
	wantRefused(t, "a directory", WriteAtomic(dir, 0o644, write("new\n")), "is a directory")
	wantRefused(t, "a missing directory", WriteAtomic(filepath.Join(dir, "a", "b"), 0o644, write("x")), "does not exist")

	if err := WriteAtomic(target, 0o640, write("new\n")); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(target); string(b) != "new\n" {
		t.Errorf("the file holds %q", b)
	}
	if st, _ := os.Stat(target); st.Mode().Perm() != 0o640 {
		t.Errorf("mode %v, want 0640", st.Mode().Perm())
	}
	failed := errors.New("half way")
	if err := WriteAtomic(target, 0o644, func(w io.Writer) error { io.WriteString(w, "half"); return failed }); !errors.Is(err, failed) {
		t.Errorf("a failing write: %v", err)
	}
	if b, _ := os.ReadFile(target); string(b) != "new\n" {
		t.Errorf("after a failed write the file holds %q", b)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, ".*")); len(m) != 0 {
		t.Errorf("temporary files left: %v", m)
	}

	open := filepath.Join(dir, "open")
	os.Mkdir(open, 0o777)
	os.Chmod(open, 0o777)
	wantRefused(t, "a world-writable directory", WriteAtomic(filepath.Join(open, "f"), 0o644, write("x")), "without the sticky bit")
	os.Chmod(open, 0o777|os.ModeSticky)
	if err := WriteAtomic(filepath.Join(open, "f"), 0o644, write("x")); err != nil {
		t.Errorf("a sticky shared directory (as /tmp): %v", err)
	}
}

// TestRemoveStaleTempsRemovesOnlyOurs: the leftovers of a killed writer go;
// a file of another user's with the same kind of name, and a link, stay.
func TestRemoveStaleTempsRemovesOnlyOurs(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "portwatch.prom")
	ours := filepath.Join(dir, TempPrefix(path)+"123")
	os.WriteFile(ours, []byte("half"), 0o600)
	link := filepath.Join(dir, TempPrefix(path)+"link")
	os.Symlink("/etc/passwd", link)
	theirs := filepath.Join(dir, TempPrefix(path)+"theirs")
	os.WriteFile(theirs, nil, 0o600)
	chowned := os.Geteuid() == 0 && os.Chown(theirs, nobody, nobody) == nil
	RemoveStaleTemps(path)
	if _, err := os.Lstat(ours); err == nil {
		t.Error("our stale temporary file is still there")
	}
	if _, err := os.Lstat(link); err != nil {
		t.Error("a link with a temporary file's name was removed")
	}
	if _, err := os.Lstat(theirs); chowned && err != nil {
		t.Error("another user's file was removed")
	}
}
