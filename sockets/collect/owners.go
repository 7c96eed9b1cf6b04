//go:build linux

package collect

import (
	"errors"
	"io/fs"
	"slices"
	"strconv"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// heldSocket is one socket descriptor of a process: the socket's inode,
// and the descriptor's number, by which the hold can be checked again.
type heldSocket struct {
	ino uint64
	fd  int32
}

// fdScratch is the memory one goroutine reads descriptors with, kept from
// poll to poll: the path being opened (NUL-terminated, as the kernel wants
// it) and the getdents buffer, whose entries' names are NUL-terminated
// already and are handed to fstatat as they lie. Reading a process's
// descriptors so allocates nothing but what its socket list grows by.
type fdScratch struct {
	path []byte
	ents []byte
	// read counts the directory entries read, for tests and benchmarks.
	read int
}

// direntsSize holds about 1,300 of /proc/PID/fd's entries a getdents call.
const direntsSize = 32 << 10

// procPath builds procRoot/PID/sub (pid 0: procRoot/sub) with a NUL at its
// end, in s.path.
func (s *fdScratch) procPath(procRoot string, pid int32, sub string) *byte {
	p := append(s.path[:0], procRoot...)
	if pid > 0 {
		p = append(p, '/')
		p = strconv.AppendInt(p, int64(pid), 10)
	}
	if sub != "" {
		p = append(p, '/')
		p = append(p, sub...)
	}
	s.path = append(p, 0)
	return &s.path[0]
}

// openDir opens a directory by a path procPath built, without the
// allocation unix.Open makes for its string.
func openDir(path *byte) (int, error) {
	cwd := unix.AT_FDCWD // a variable: the constant is negative
	fd, _, errno := unix.Syscall6(unix.SYS_OPENAT, uintptr(cwd), uintptr(unsafe.Pointer(path)),
		uintptr(unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC), 0, 0, 0)
	if errno != 0 {
		return -1, errno
	}
	return int(fd), nil
}

// fstatatName stats name (NUL-terminated, in a getdents buffer) relative to
// dirfd, following the link.
func fstatatName(dirfd int, name *byte, st *unix.Stat_t) error {
	_, _, errno := unix.Syscall6(unix.SYS_NEWFSTATAT, uintptr(dirfd), uintptr(unsafe.Pointer(name)), uintptr(unsafe.Pointer(st)), 0, 0, 0)
	if errno != 0 {
		return errno
	}
	return nil
}

// eachDirent calls fn with every entry's name (without its NUL, pointing
// into s.ents) and a pointer to the name's first byte, "." and ".." left
// out. It stops at fn's false.
func (s *fdScratch) eachDirent(dirfd int, fn func(name []byte, cname *byte) bool) error {
	if len(s.ents) < direntsSize {
		s.ents = make([]byte, direntsSize)
	}
	const nameAt = int(unsafe.Offsetof(unix.Dirent{}.Name))
	for {
		n, err := unix.Getdents(dirfd, s.ents)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		if n <= 0 {
			return nil
		}
		for off := 0; off+nameAt < n; {
			reclen := int(*(*uint16)(unsafe.Pointer(&s.ents[off+int(unsafe.Offsetof(unix.Dirent{}.Reclen))])))
			if reclen <= nameAt || off+reclen > n {
				return nil // a malformed record: what was read so far stands
			}
			rec := s.ents[off+nameAt : off+reclen]
			end := 0
			for end < len(rec) && rec[end] != 0 {
				end++
			}
			name := rec[:end]
			off += reclen
			if end == 0 || end == len(rec) || string(name) == "." || string(name) == ".." {
				continue
			}
			s.read++
			if !fn(name, &rec[0]) {
				return nil
			}
		}
	}
}

// parsePID reads a decimal name as a pid; ok is false for anything else.
func parsePID(name []byte) (int32, bool) {
	if len(name) == 0 || len(name) > 10 {
		return 0, false
	}
	var v int64
	for _, c := range name {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	if v <= 0 || v > 1<<31-1 {
		return 0, false
	}
	return int32(v), true
}

// fdDir is what a process's fd directory says of itself: how many
// descriptors it has open (st_size, since Linux 6.2; 0 before) and its
// owner, the process's effective uid (root for one that is not dumpable).
// Both are hints for which process to read first, never facts about owners.
type fdDir struct {
	count int64
	uid   uint32
	// ino is the directory's inode: a process's own for its life (another
	// process on the same pid has another).
	ino uint64
}

// socketInodes lists the socket descriptors that one process holds open.
// Each descriptor is stat()ed through its /proc link relative to the open
// fd directory: a socket's inode number is its st_ino. That costs a fifth
// less than reading the link's "socket:[12345]" text.
//
// The error is fs.ErrPermission (wrapping the errno) when the descriptors
// may not be read: the directory may not be opened (another user's
// process, not being root), or, as root, it may be listed but its links
// may not be followed (a non-dumpable process or another user's without
// CAP_SYS_PTRACE: the kernel's ptrace check gives EACCES for each).
func socketInodes(procRoot string, pid int32) ([]heldSocket, error) {
	var s fdScratch
	held, _, err := s.socketInodes(procRoot, pid, nil)
	return held, err
}

// socketInodes is socketInodes with s's buffers, appending to held[:0].
func (s *fdScratch) socketInodes(procRoot string, pid int32, held []heldSocket) ([]heldSocket, fdDir, error) {
	held, dir, _, err := s.socketInodesUntil(procRoot, pid, held, nil)
	return held, dir, err
}

// socketInodesUntil is socketInodes that stops after the socket for which
// stop (if not nil) says true: the kernel lists descriptors lowest first,
// and last is the descriptor it stopped at, -1 when it read them all.
func (s *fdScratch) socketInodesUntil(procRoot string, pid int32, held []heldSocket, stop func(heldSocket) bool) (_ []heldSocket, _ fdDir, last int32, _ error) {
	held, last = held[:0], -1
	dirfd, err := openDir(s.procPath(procRoot, pid, "fd"))
	if err != nil {
		return nil, fdDir{}, -1, err
	}
	defer unix.Close(dirfd)
	var st unix.Stat_t
	var dir fdDir
	if unix.Fstat(dirfd, &st) == nil {
		dir = fdDirFrom(&st)
	}
	if stop == nil && int64(cap(held)) < dir.count && dir.count <= 1<<20 {
		// Room for every descriptor at once: a server's 16,000 sockets
		// grown by doubling would leave as much again behind as garbage.
		held = make([]heldSocket, 0, dir.count)
	}
	var denied error
	err = s.eachDirent(dirfd, func(name []byte, cname *byte) bool {
		if err := fstatatName(dirfd, cname, &st); err != nil {
			if err == unix.EACCES || err == unix.EPERM {
				denied = &fs.PathError{Op: "stat", Path: procRoot + "/" + strconv.Itoa(int(pid)) + "/fd/" + string(name), Err: err}
				return false
			}
			return true // closed since the listing, or a dead link: not an error
		}
		if st.Mode&unix.S_IFMT == unix.S_IFSOCK {
			fd, _ := parsePID(name) // descriptor 0 reads as not ok, and 0 is right
			held = append(held, heldSocket{st.Ino, fd})
			if stop != nil && stop(held[len(held)-1]) {
				last = fd
				return false
			}
		}
		return true
	})
	if denied != nil {
		return nil, dir, -1, denied
	}
	if err != nil {
		return nil, dir, -1, err
	}
	return held, dir, last, nil
}

// stillHolds says whether the process's descriptor fd is still the socket
// ino. Only a clear no (the descriptor is closed, or is now another file)
// is false: a process that may no longer be read is given the benefit.
func stillHolds(procRoot string, pid, fd int32, ino uint64) bool {
	var s fdScratch
	return s.stillHolds(procRoot, pid, fd, ino)
}

// stillHolds is stillHolds with s's path buffer.
func (s *fdScratch) stillHolds(procRoot string, pid, fd int32, ino uint64) bool {
	s.procPath(procRoot, pid, "fd")
	p := append(s.path[:len(s.path)-1], '/') // over the NUL
	p = strconv.AppendInt(p, int64(fd), 10)
	s.path = append(p, 0)
	var st unix.Stat_t
	err := fstatatName(unix.AT_FDCWD, &s.path[0], &st)
	switch {
	case err == unix.ENOENT || err == unix.ESRCH:
		return false
	case err != nil:
		return true
	}
	return st.Ino == ino && st.Mode&unix.S_IFMT == unix.S_IFSOCK
}

// fdDirFrom is what a stat of a process's fd directory says (fdDir).
func fdDirFrom(st *unix.Stat_t) fdDir { return fdDir{count: st.Size, uid: st.Uid, ino: st.Ino} }

// fdDirOf is what process pid's fd directory says of itself now, in one
// stat.
func (s *fdScratch) fdDirOf(procRoot string, pid int32) (fdDir, bool) {
	var st unix.Stat_t
	if fstatatName(unix.AT_FDCWD, s.procPath(procRoot, pid, "fd"), &st) != nil {
		return fdDir{}, false
	}
	return fdDirFrom(&st), true
}

// fdCount is how many descriptors process pid has open, as its fd
// directory's size says (Linux 6.2 on; 0 before).
func (s *fdScratch) fdCount(procRoot string, pid int32) (int64, bool) {
	dir, ok := s.fdDirOf(procRoot, pid)
	return dir.count, ok
}

// appendPIDs appends the processes under procRoot to pids[:0], lowest
// first.
func (s *fdScratch) appendPIDs(procRoot string, pids []int32) ([]int32, error) {
	pids = pids[:0]
	dirfd, err := openDir(s.procPath(procRoot, 0, ""))
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: procRoot, Err: err}
	}
	defer unix.Close(dirfd)
	sorted := true
	err = s.eachDirent(dirfd, func(name []byte, _ *byte) bool {
		if pid, ok := parsePID(name); ok {
			sorted = sorted && (len(pids) == 0 || pids[len(pids)-1] < pid)
			pids = append(pids, pid)
		}
		return true
	})
	if err != nil {
		return nil, &fs.PathError{Op: "readdirent", Path: procRoot, Err: err}
	}
	if !sorted { // /proc lists pids in order; another root may not
		slices.Sort(pids)
	}
	return pids, nil
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
