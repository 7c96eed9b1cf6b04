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
