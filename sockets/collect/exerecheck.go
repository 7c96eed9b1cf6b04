//go:build linux

package collect

import (
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/clean"
)

// A process's details are read once per life, but its executable can be deleted or replaced
// while it runs (an upgrade, or someone covering their tracks): the kernel then shows the link
// /proc/PID/exe with " (deleted)". A cached process has that link read again every
// exeRecheckEvery, one readlink, so a deleted or replaced binary is flagged within seconds.
//
// The kernel's process events (procevents_linux.go) say when a process execs, and the cache then
// reads it again whole, its executable with it, at once; but a file deleted or renamed over fires
// no process event, so this recheck stays, for every owner:
//   - not for listeners' owners only: a deleted binary holding just an outbound connection (a
//     beacon, a reverse shell) is the very case the deleted-exe finding is for;
//   - not once per file for all its processes: two processes of one file (same path, device and
//     inode) may hold it through different links (a hard link under the same path in another
//     mount namespace), and deleting one leaves the other, so one process's link does not prove
//     another's;
//   - and at this rate, as it is cheap: a readlink of /proc/PID/exe measured 2.8 us, a fifth of
//     the read of /proc/PID/stat (14 us) that the events save every second, so an owner costs
//     about 1.4 us a second where it cost 15.
const exeRecheckEvery = 2 * time.Second

// recheckExe is p with its executable as /proc/PID/exe says now, or p itself when that has not
// changed (or cannot be read: a process not ours to look at keeps what was read).
func recheckExe(procRoot string, pid int32, p *sockets.Process) *sockets.Process {
	link, err := os.Readlink(procRoot + "/" + strconv.Itoa(int(pid)) + "/exe")
	if err != nil {
		return p
	}
	exe, deleted := strings.CutSuffix(link, " (deleted)")
	exe = clean.Text(exe)
	if exe == p.Exe && deleted == p.ExeDeleted {
		return p
	}
	q := *p // processes are immutable once made: a new one
	q.Exe, q.ExeDeleted = exe, deleted
	return &q
}
