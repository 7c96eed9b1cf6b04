// Package safefile opens the files portwatch reads and writes on a user's
// word (--log, --textfile, --baseline, baseline save) as a watchdog must,
// often as root: a path is a request, not a promise of what is there. Another
// local user may have planted a symbolic link where the log will be, made a
// FIFO that hangs whoever opens it, or pre-created the file to read what is
// written into it. So a file is opened without following a final symbolic
// link (O_NOFOLLOW) and without waiting (O_NONBLOCK, which a FIFO would
// otherwise block on), and then judged by its descriptor, not its name: it
// must be a regular file, owned by the user portwatch runs as or by root,
// and not writable by every user. A refusal is a *RefusedError whose text is
// the reason, for one clear line; no directory is ever created.
package safefile

import (
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"

	"github.com/portwatch/portwatch/sockets/clean"
)

// RefusedError is a file portwatch will not use, and why. Its text is the
// reason alone ("is a symbolic link ..."): the caller names the flag and the
// path before it.
type RefusedError struct{ Reason string }

func (e *RefusedError) Error() string { return e.Reason }

func refused(format string, a ...any) error { return &RefusedError{fmt.Sprintf(format, a...)} }

// errSymlink is the reason for a final symbolic link, whoever owns it: a
// link in a shared directory may point at any file root can write.
var errSymlink = refused("is a symbolic link; portwatch does not follow one here (in a shared directory it could point anywhere): name the file itself")

// check judges an open file by its status: a regular file of ours (or of
// root's), not writable by everyone.
func check(st *syscall.Stat_t) error {
	if err := checkKind(uint32(st.Mode)); err != nil {
		return err
	}
	if err := checkOwner(st.Uid); err != nil {
		return err
	}
	if uint32(st.Mode)&0o002 != 0 {
		return refused("is writable by every user (mode %04o): anyone could change what it says; chmod o-w it", uint32(st.Mode)&0o7777)
	}
	return nil
}

// checkKind refuses anything but a regular file, naming what it is.
func checkKind(mode uint32) error {
	what := ""
	switch mode & syscall.S_IFMT {
	case syscall.S_IFREG:
		return nil
	case syscall.S_IFDIR:
		what = "a directory"
	case syscall.S_IFIFO:
		what = "a named pipe (FIFO)"
	case syscall.S_IFSOCK:
		what = "a socket"
	case syscall.S_IFCHR:
		what = "a character device"
	case syscall.S_IFBLK:
		what = "a block device"
	case syscall.S_IFLNK:
		return errSymlink
	default:
		what = "not a file"
	}
	return refused("is %s, not a regular file", what)
}

// checkOwner accepts a file of the user portwatch runs as, or of root:
// root's files are trusted by everyone, and root trusts only its own. A
// file another user owns is theirs to read and to change.
func checkOwner(uid uint32) error {
	me := uint32(os.Geteuid())
	if uid == me || uid == 0 {
		return nil
	}
	if me == 0 {
		return refused("is owned by %s, not by root: portwatch, as root, uses only root's files (another user could read or change it)", describeUID(uid))
	}
	return refused("is owned by %s: portwatch, as %s, uses only its own user's files and root's", describeUID(uid), describeUID(me))
}

// describeUID is "uid 65534 (nobody)", or "uid 1234" without a name.
func describeUID(uid uint32) string {
	s := "uid " + strconv.FormatUint(uint64(uid), 10)
	if u, err := user.LookupId(strconv.FormatUint(uint64(uid), 10)); err == nil && u.Username != "" {
		s += " (" + clean.Cut(clean.Text(u.Username), 64) + ")"
	}
	return s
}

// checkDir refuses a path whose directory does not exist: portwatch makes
// no directories on a flag's word (a typo would make a tree as root).
func checkDir(path string) error {
	dir := filepath.Dir(path)
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return refused("directory %s does not exist (portwatch creates no directories)", dir)
	case err != nil:
		return reason(err)
	case !st.IsDir():
		return refused("%s is not a directory", dir)
	}
	return nil
}

// reason is an error without the path an *os.PathError repeats.
func reason(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
