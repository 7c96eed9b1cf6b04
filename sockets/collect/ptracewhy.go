//go:build linux

package collect

import (
	"math/bits"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// Why a process's descriptors could not be read. Without CAP_SYS_PTRACE (or as another user) the
// advice is to run as root with it; but root that holds it meets refusals too (pid 1 of a
// sandbox, a process of another user namespace), and telling it to get what it has helps no one.
// So when portwatch holds CAP_SYS_PTRACE the reason says what is really in the way, as far as
// /proc tells: another user namespace, capabilities the process holds and portwatch lacks, or a
// security module.

const capSysPtrace = 19

// capNames names the capabilities by bit, as capabilities(7) does.
var capNames = [...]string{"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
	"CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
	"CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE",
	"CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT",
	"CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
	"CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG",
	"CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE"}

// ownCaps is portwatch's effective capability set, read once (it does not change while it runs).
var ownCaps = sync.OnceValue(func() uint64 { caps, _ := capsOf("/proc/self/status", "CapEff"); return caps })

// holdsPtrace says whether portwatch's effective capabilities hold CAP_SYS_PTRACE.
func holdsPtrace() bool { return ownCaps()&(1<<capSysPtrace) != 0 }

// capsOf reads a capability set (CapEff, CapPrm) from a /proc status file.
func capsOf(status, field string) (uint64, bool) {
	b, err := os.ReadFile(status)
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			caps, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			return caps, err == nil
		}
	}
	return 0, false
}

// capList names the capabilities of a set, lowest bit first.
func capList(set uint64) string {
	var names []string
	for set != 0 {
		b := bits.TrailingZeros64(set)
		set &^= 1 << b
		if b < len(capNames) {
			names = append(names, capNames[b])
		} else {
			names = append(names, "cap_"+strconv.Itoa(b))
		}
	}
	return strings.Join(names, ", ")
}

// unreadableReason is the reason recorded for a process whose descriptors were refused: the
// system's word, and, when portwatch already holds CAP_SYS_PTRACE, what is in the way.
func unreadableReason(procRoot string, pid int32, err error) string {
	word := reasonOf(err)
	if !holdsPtrace() {
		return word
	}
	return word + ", though portwatch holds CAP_SYS_PTRACE: " + obstacle(procRoot, pid, ownCaps())
}

// obstacle is what stands between a process holding caps (with CAP_SYS_PTRACE) and pid's
// descriptors, as far as /proc says.
func obstacle(procRoot string, pid int32, caps uint64) string {
	dir := filepath.Join(procRoot, strconv.Itoa(int(pid)))
	var mine, theirs syscall.Stat_t
	if syscall.Stat(filepath.Join(procRoot, "self/ns/user"), &mine) == nil && syscall.Stat(filepath.Join(dir, "ns/user"), &theirs) == nil &&
		mine.Ino != theirs.Ino {
		return "the process runs in another user namespace (user:[" + strconv.FormatUint(theirs.Ino, 10) + "]), where portwatch's capabilities do not count"
	}
	if prm, ok := capsOf(filepath.Join(dir, "status"), "CapPrm"); ok && prm&^caps != 0 {
		return "the process holds capabilities portwatch lacks (" + capList(prm&^caps) + "): more privileged than portwatch, as a sandbox's own init is"
	}
	if lsm, err := os.ReadFile("/sys/kernel/security/lsm"); err == nil {
		for _, m := range strings.Split(strings.TrimSpace(string(lsm)), ",") {
			switch m {
			case "apparmor", "selinux", "smack", "tomoyo", "landlock":
				return "a security module refused it (active: " + strings.TrimSpace(string(lsm)) + ")"
			}
		}
	}
	return "the kernel or a sandbox around portwatch refused it; no capability would help"
}
