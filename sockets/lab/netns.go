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

// userEnv marks a NamespaceCommand child that has a user namespace of
// its own: its value is the inode of the user namespace it was made from.
const userEnv = "PORTWATCH_LAB_USERNS"

// NamespaceCommand returns a command that runs this program again, with
// args, in a new network namespace: an anonymous one, which the kernel
// deletes when its last process ends, so there is nothing to delete after a
// crash. The child inherits the caller's standard input, output and error
// (the monitor draws on the same terminal) and is killed if the thread that
// starts it ends (Pdeathsig): start it from a goroutine locked to its
// thread (runtime.LockOSThread) that waits for it.
//
// Root makes the network namespace alone. Any other user makes it inside
// a user namespace of their own (as `unshare -rn` does), where they are
// root and only there: the lab may then bind 22, 80 and 443 and set its
// own firewall rule in its own namespace, as root's lab does, and nothing
// of the machine's. It comes with a mount namespace, where the scene puts
// a private /run (PrepareUserNamespace). The kernel may refuse user
// namespaces (user.max_user_namespaces 0, a sysctl that forbids them to
// users): Start then fails, and IsRefused says so.
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
	// A mount namespace too, for a /run of its own (privateRun): the
	// scene's files go with the namespace, kill -9 included.
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags: syscall.CLONE_NEWNET | syscall.CLONE_NEWNS,
		Pdeathsig:  syscall.SIGKILL,
	}
	if euid := os.Geteuid(); euid != 0 {
		user, err := nsInode("self", "user")
		if err != nil {
			return nil, err
		}
		cmd.Env = append(cmd.Env, userEnv+"="+strconv.FormatUint(user, 10))
		cmd.SysProcAttr.Cloneflags |= syscall.CLONE_NEWUSER
		// Root inside is this user outside: one uid, one gid, no groups
		// (setgroups denied, as an unprivileged map must).
		cmd.SysProcAttr.UidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: euid, Size: 1}}
		cmd.SysProcAttr.GidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getegid(), Size: 1}}
		cmd.SysProcAttr.GidMappingsEnableSetgroups = false
	}
	return cmd, nil
}

// IsRefused reports whether starting a NamespaceCommand failed because the
// kernel would not make the namespaces: no privilege, user namespaces
// switched off or used up.
func IsRefused(err error) bool {
	return errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOSPC) ||
		errors.Is(err, syscall.EACCES) || errors.Is(err, syscall.EUSERS)
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

// InUserNamespace reports whether this process is a NamespaceCommand
// child with a user namespace of its own: root here, an ordinary user on
// the machine.
func InUserNamespace() bool {
	v := os.Getenv(userEnv)
	if v == "" || !InNamespace() {
		return false
	}
	from, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return false
	}
	self, err := nsInode("self", "user")
	return err == nil && self != from
}

// ErrUserNamespacePowerless is what New says in a user namespace that
// grants no power over its own network namespace (a security module can
// let a user make one and then deny it every capability): the lab cannot
// run there, and runs on loopback instead.
var ErrUserNamespacePowerless = errors.New("the user namespace the lab made gives it no power over its own network (a security module denies it)")

// privateRun gives the lab, in its namespace, a /run of its own: an empty
// tmpfs in its mount namespace, owned by its root. The scene's directory
// goes there (files.go), so that its servers run from neither a
// world-writable directory nor a hidden one in a home, which the monitor
// would rightly call suspicious, and so that it ends with the namespace:
// a lab killed with -9 left its directory and its copy of portwatch in
// the machine's /run. Mounts made here do not propagate back: the mount
// namespace is made private first.
func privateRun() error {
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("making the lab's mounts private: %w", err)
	}
	if err := unix.Mount("portwatch-lab", "/run", "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=0755,size=256m"); err != nil {
		return fmt.Errorf("mounting the lab's own /run: %w", err)
	}
	return nil
}

// netnsInode is the inode of a process's network namespace ("self" or a pid).
func netnsInode(pid string) (uint64, error) { return nsInode(pid, "net") }

// nsInode is the inode of a process's namespace of a kind ("net", "user").
func nsInode(pid, kind string) (uint64, error) {
	var st unix.Stat_t
	if err := unix.Stat("/proc/"+pid+"/ns/"+kind, &st); err != nil {
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
