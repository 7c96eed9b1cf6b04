//go:build linux

package lab

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// namespaceEnv marks the process NamespaceCommand starts: its value is the
// inode of the network namespace the command was made in, so that the
// child can check it really runs in another one.
const namespaceEnv = "PORTWATCH_LAB_NETNS"

// NamespaceCommand returns a command that runs this program again, with
// args, in a new network namespace: an anonymous one, which the kernel
// deletes when its last process ends, so there is nothing to delete after a
// crash. The child inherits the caller's standard input, output and error
// (the monitor draws on the same terminal) and is killed if the thread that
// starts it ends (Pdeathsig): start it from a goroutine locked to its
// thread (runtime.LockOSThread) that waits for it. Only root may make a
// namespace.
func NamespaceCommand(args ...string) (*exec.Cmd, error) {
	ino, err := netnsInode("self")
	if err != nil {
		return nil, err
	}
	cmd := exec.Command("/proc/self/exe", args...)
	if exe, err := os.Executable(); err == nil {
		cmd.Args[0] = exe
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(helperEnviron(), namespaceEnv+"="+strconv.FormatUint(ino, 10))
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags: syscall.CLONE_NEWNET,
		Pdeathsig:  syscall.SIGKILL,
	}
	return cmd, nil
}

// InNamespace reports whether this process is the one NamespaceCommand
// started, in a network namespace of its own.
func InNamespace() bool {
	v := os.Getenv(namespaceEnv)
	if v == "" {
		return false
	}
	from, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return false
	}
	self, err := netnsInode("self")
	return err == nil && self != from
}

// netnsInode is the inode of a process's network namespace ("self" or a pid).
func netnsInode(pid string) (uint64, error) {
	var st unix.Stat_t
	if err := unix.Stat("/proc/"+pid+"/ns/net", &st); err != nil {
		return 0, err
	}
	return st.Ino, nil
}

// loopbackUp brings lo up: a new namespace's only interface starts down.
// An ioctl does it, with no ip binary and no netlink library.
func loopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("reading lo's flags: %w", err)
	}
	if ifr.Uint16()&unix.IFF_UP != 0 {
		return nil
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		if errors.Is(err, unix.EPERM) {
			return fmt.Errorf("bringing lo up needs root: %w", err)
		}
		return fmt.Errorf("bringing lo up: %w", err)
	}
	return nil
}
