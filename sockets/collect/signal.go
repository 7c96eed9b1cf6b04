//go:build linux

package collect

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/clean"
	"golang.org/x/sys/unix"
)

// ErrNotSameProcess: the pid now belongs to another process than the one
// the user chose (it exited and its pid was reused).
var ErrNotSameProcess = errors.New("the pid now belongs to another process")

// Signal sends sig to exactly this process: its pid, its start time and,
// where it can be read, its executable. It opens a pidfd first, which names
// the process living now and stays bound to it, then checks that process's
// start time and executable, then signals through the pidfd: a pid reused
// at any moment in between can never be hit. Where pidfds are missing
// (Linux before 5.3) it checks just before kill(2), which narrows the race
// to microseconds.
func Signal(p sockets.Process, sig syscall.Signal) error {
	return signalIn("/proc", p, sig)
}

func signalIn(procRoot string, p sockets.Process, sig syscall.Signal) error {
	if p.PID <= 1 {
		return fmt.Errorf("refused to signal pid %d", p.PID)
	}
	fd, err := unix.PidfdOpen(int(p.PID), 0)
	switch {
	case err == nil:
		defer unix.Close(fd)
	case errors.Is(err, unix.ENOSYS):
		fd = -1
	default:
		return err // ESRCH: it has exited
	}
	if err := sameProcess(procRoot, p); err != nil {
		return err
	}
	if fd >= 0 {
		return unix.PidfdSendSignal(fd, sig, nil, 0)
	}
	return syscall.Kill(int(p.PID), sig)
}

// sameProcess checks that the pid still runs the process p describes.
func sameProcess(procRoot string, p sockets.Process) error {
	start, err := readStartTicks(procRoot, p.PID)
	if err != nil {
		return syscall.ESRCH
	}
	if start != p.StartTicks {
		return fmt.Errorf("pid %d: %w (it started at another time)", p.PID, ErrNotSameProcess)
	}
	if p.Exe == "" {
		return nil
	}
	exe, err := os.Readlink(filepath.Join(procRoot, strconv.Itoa(int(p.PID)), "exe"))
	if err != nil {
		return nil // unreadable (another user's, a kernel thread): the start time decides
	}
	// p.Exe was cleaned when it was read: compare it so, and say it so (the
	// error is shown).
	exe, _ = strings.CutSuffix(exe, " (deleted)")
	if exe = clean.Text(exe); exe != p.Exe {
		return fmt.Errorf("pid %d: %w (it runs %s)", p.PID, ErrNotSameProcess, exe)
	}
	return nil
}
