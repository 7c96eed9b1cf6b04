//go:build linux

package collect

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// heldSocket is one socket descriptor of a process: the socket's inode,
// and the descriptor's number, by which the hold can be checked again.
type heldSocket struct {
	ino uint64
	fd  int32
}

// socketInodes lists the socket descriptors that one process holds open.
// Each descriptor is stat()ed through its /proc link relative to the open
// fd directory: a socket's inode number is its st_ino. That costs a fifth
// less than reading the link's "socket:[12345]" text, and allocates
// nothing.
//
// The error is fs.ErrPermission (wrapping the errno) when the descriptors
// may not be read: the directory may not be opened (another user's
// process, not being root), or, as root, it may be listed but its links
// may not be followed (a non-dumpable process or another user's without
// CAP_SYS_PTRACE: the kernel's ptrace check gives EACCES for each).
func socketInodes(procRoot string, pid int32) ([]heldSocket, error) {
	dir, err := os.Open(filepath.Join(procRoot, strconv.Itoa(int(pid)), "fd"))
	if err != nil {
		return nil, err
	}
	defer dir.Close()
	names, err := dir.Readdirnames(-1)
	if err != nil {
		return nil, err
	}
	dirfd := int(dir.Fd())
	var held []heldSocket
	var st unix.Stat_t
	for _, n := range names {
		if err := unix.Fstatat(dirfd, n, &st, 0); err != nil {
			if err == unix.EACCES || err == unix.EPERM {
				return nil, &fs.PathError{Op: "stat", Path: dir.Name() + "/" + n, Err: err}
			}
			continue // closed since the listing, or a dead link: not an error
		}
		if st.Mode&unix.S_IFMT == unix.S_IFSOCK {
			fd, _ := strconv.Atoi(n)
			held = append(held, heldSocket{st.Ino, int32(fd)})
		}
	}
	return held, nil
}

// stillHolds says whether the process's descriptor fd is still the socket
// ino. Only a clear no (the descriptor is closed, or is now another file)
// is false: a process that may no longer be read is given the benefit.
func stillHolds(procRoot string, pid, fd int32, ino uint64) bool {
	var st unix.Stat_t
	err := unix.Stat(procRoot+"/"+strconv.Itoa(int(pid))+"/fd/"+strconv.Itoa(int(fd)), &st)
	switch {
	case err == unix.ENOENT || err == unix.ESRCH:
		return false
	case err != nil:
		return true
	}
	return st.Ino == ino && st.Mode&unix.S_IFMT == unix.S_IFSOCK
}

// reasonOf is the system's word for why an error happened: the errno's
// text ("permission denied"), without the path.
func reasonOf(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return errno.Error()
	}
	return err.Error()
}

// dirNames lists a directory's entries, unsorted: /proc needs no order.
func dirNames(dir string) ([]string, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.Readdirnames(-1)
}
