package safefile

import (
	"errors"
	"os"
	"syscall"
)

// flags every open carries: the final component is never followed, a FIFO
// or a device does not make open wait, and no child inherits the descriptor.
const flags = syscall.O_NOFOLLOW | syscall.O_NONBLOCK | syscall.O_CLOEXEC

// OpenRead opens path for reading: a regular file of portwatch's user or
// root's, not writable by everyone, and not a symbolic link. A FIFO is
// refused at once instead of blocking the caller until someone writes.
func OpenRead(path string) (*os.File, error) {
	fd, err := open(path, syscall.O_RDONLY|flags, 0)
	if err != nil {
		return nil, openError(path, err)
	}
	return adopt(fd, path)
}

// OpenAppend opens path for appending (O_APPEND), as OpenRead judges it. A
// file that is not there is made with perm, and made new (O_EXCL): a file
// planted there between two calls is opened and judged, never followed.
// The directory must exist.
func OpenAppend(path string, perm os.FileMode) (*os.File, error) {
	if err := checkDir(path); err != nil {
		return nil, err
	}
	const wr = syscall.O_WRONLY | syscall.O_APPEND | flags
	for range 5 { // a file removed between the two opens: create it again
		fd, err := open(path, wr|syscall.O_CREAT|syscall.O_EXCL, uint32(perm.Perm()))
		if err == nil {
			return adopt(fd, path)
		}
		if !errors.Is(err, syscall.EEXIST) {
			return nil, openError(path, err)
		}
		fd, err = open(path, wr, 0)
		if errors.Is(err, syscall.ENOENT) {
			continue
		}
		if err != nil {
			return nil, openError(path, err)
		}
		return adopt(fd, path)
	}
	return nil, refused("keeps appearing and disappearing: another program is replacing it")
}

// open is open(2), again when a signal interrupts it.
func open(path string, mode int, perm uint32) (int, error) {
	for {
		fd, err := syscall.Open(path, mode, perm)
		if !errors.Is(err, syscall.EINTR) {
			return fd, err
		}
	}
}

// adopt judges an open descriptor by its own status (not the path's, which
// may have changed since) and hands it over as a blocking *os.File; a file
// refused is closed.
func adopt(fd int, path string) (*os.File, error) {
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		syscall.Close(fd)
		return nil, err
	}
	if err := check(&st); err != nil {
		syscall.Close(fd)
		return nil, err
	}
	// O_NONBLOCK was for the open only; on a regular file it changes
	// nothing, but the descriptor is left as os.File expects.
	if err := syscall.SetNonblock(fd, false); err != nil {
		syscall.Close(fd)
		return nil, err
	}
	return os.NewFile(uintptr(fd), path), nil
}

// openError says why an open failed in the words of what is at path: open
// reports a symbolic link as ELOOP, a FIFO without a reader or a socket as
// ENXIO, a directory as EISDIR.
func openError(path string, err error) error {
	switch {
	case errors.Is(err, syscall.ELOOP), errors.Is(err, syscall.ENXIO), errors.Is(err, syscall.EISDIR),
		errors.Is(err, syscall.EOPNOTSUPP):
		var st syscall.Stat_t
		if syscall.Lstat(path, &st) == nil {
			if kerr := checkKind(uint32(st.Mode)); kerr != nil {
				return kerr
			}
		}
	}
	return err
}
