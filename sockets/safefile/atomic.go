package safefile

import (
	"bufio"
	"errors"
	"io"
	"os"
	"path/filepath"
	"syscall"
)

// TempPrefix names WriteAtomic's temporary files for path: hidden (a
// node_exporter textfile collector's *.prom skips them) and next to it.
func TempPrefix(path string) string { return "." + filepath.Base(path) + ".tmp-" }

// WriteAtomic replaces path with what write writes, whole: a reader, or a
// crash at any moment, sees the old file or the new one, never part of one.
// The text goes to a new temporary file in the same directory (O_EXCL, mode
// 0600 while it is written), which is given perm, synced and renamed over
// path. The directory must exist and must not let every user swap the
// temporary file (world-writable without the sticky bit); what is at path
// must be a regular file of ours or root's, or nothing: a symbolic link is
// refused, not replaced (renaming over it would leave the file it points to
// as it was).
func WriteAtomic(path string, perm os.FileMode, write func(io.Writer) error) error {
	if err := CheckReplaceable(path); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), TempPrefix(path)+"*")
	if err != nil {
		return reason(err)
	}
	defer os.Remove(tmp.Name()) // after the rename, there is nothing to remove
	w := bufio.NewWriter(tmp)
	err = write(w)
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		err = tmp.Chmod(perm.Perm())
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return reason(err)
	}
	return reason(os.Rename(tmp.Name(), path))
}

// CheckReplaceable reports whether WriteAtomic would write path, so that a
// program can refuse at its start what its first write would: a missing
// directory, one where anyone may swap files, or a link, a directory or
// another user's file at path.
func CheckReplaceable(path string) error {
	if err := checkDir(path); err != nil {
		return err
	}
	if err := checkSharedDir(filepath.Dir(path)); err != nil {
		return err
	}
	return checkTarget(path)
}

// checkTarget judges what WriteAtomic would replace, by its name: nothing,
// or a regular file of ours or root's.
func checkTarget(path string) error {
	var st syscall.Stat_t
	err := syscall.Lstat(path, &st)
	if errors.Is(err, syscall.ENOENT) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := checkKind(uint32(st.Mode)); err != nil {
		return err
	}
	return checkOwner(st.Uid)
}

// checkSharedDir refuses a directory where every user may rename or remove
// the files of others (world-writable, not sticky): anyone could swap the
// temporary file between its writing and its rename.
func checkSharedDir(dir string) error {
	st, err := os.Stat(dir)
	if err != nil {
		return reason(err)
	}
	if m := st.Mode(); m.Perm()&0o002 != 0 && m&os.ModeSticky == 0 {
		return refused("directory %s is writable by every user without the sticky bit: anyone could swap the file before it is in place", dir)
	}
	return nil
}

// RemoveStaleTemps removes the temporary files of WriteAtomic for path that
// a killed process left (SIGKILL between making one and renaming it): only
// regular files portwatch's own user owns, whatever else matches the name.
func RemoveStaleTemps(path string) {
	stale, _ := filepath.Glob(filepath.Join(filepath.Dir(path), TempPrefix(path)+"*"))
	me := uint32(os.Geteuid())
	for _, f := range stale {
		var st syscall.Stat_t
		if syscall.Lstat(f, &st) == nil && uint32(st.Mode)&syscall.S_IFMT == syscall.S_IFREG && st.Uid == me {
			os.Remove(f)
		}
	}
}
