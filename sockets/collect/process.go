//go:build linux

package collect

import (
	"context"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/portwatch/portwatch/sockets"
	"github.com/shirou/gopsutil/v3/process"
)

// procIdentity tells a process apart from a later one that reuses its pid:
// the start time in clock ticks since boot, field 22 of /proc/PID/stat.
type procIdentity struct {
	pid   int32
	start uint64
}

// processCache reads each process's details once, through gopsutil, and
// keeps them for as long as the same process (pid and start time) lives.
// It is used by one poll at a time and needs no lock.
type processCache struct {
	procRoot string
	byPID    map[int32]cachedProcess
	users    map[int32]string // uid -> user name, looked up once
	onLoad   func(pid int32)  // called on every full read; tests count them
}

type cachedProcess struct {
	id   procIdentity
	proc *sockets.Process
	seen bool // held a socket in the current poll
}

func newProcessCache(procRoot string) *processCache {
	return &processCache{procRoot: procRoot, byPID: map[int32]cachedProcess{}, users: map[int32]string{}}
}

// get returns the process with this pid, reading it in full only if it is
// new or its pid now belongs to another process. It returns nil for a
// process that has exited.
func (c *processCache) get(ctx context.Context, pid int32) *sockets.Process {
	if cp, ok := c.byPID[pid]; ok && cp.seen {
		return cp.proc // checked already in this poll: a server's 10,000 sockets cost one read
	}
	start, err := readStartTicks(c.procRoot, pid)
	if err != nil {
		delete(c.byPID, pid)
		return nil
	}
	id := procIdentity{pid, start}
	if cp, ok := c.byPID[pid]; ok && cp.id == id {
		cp.seen = true
		c.byPID[pid] = cp
		return cp.proc
	}
	p := c.load(ctx, pid)
	if p == nil {
		delete(c.byPID, pid)
		return nil
	}
	p.StartTicks = start
	c.byPID[pid] = cachedProcess{id: id, proc: p, seen: true}
	return p
}

// sweep forgets processes that held no socket in this poll, so the cache
// stays the size of the socket-owning processes, then resets the marks.
func (c *processCache) sweep() {
	for pid, cp := range c.byPID {
		if !cp.seen {
			delete(c.byPID, pid)
			continue
		}
		cp.seen = false
		c.byPID[pid] = cp
	}
}

// load reads one process through gopsutil. Fields it cannot read (a process
// of another user, a kernel thread) stay empty; only a vanished process is nil.
func (c *processCache) load(ctx context.Context, pid int32) *sockets.Process {
	gp, err := process.NewProcessWithContext(ctx, pid)
	if err != nil {
		return nil
	}
	if c.onLoad != nil {
		c.onLoad(pid)
	}
	p := &sockets.Process{PID: pid}
	p.Name, _ = gp.NameWithContext(ctx)
	p.PPID, _ = gp.PpidWithContext(ctx)
	p.Cmdline, _ = gp.CmdlineWithContext(ctx)
	if exe, err := gp.ExeWithContext(ctx); err == nil {
		p.Exe, p.ExeDeleted = strings.CutSuffix(exe, " (deleted)")
	}
	if ms, err := gp.CreateTimeWithContext(ctx); err == nil {
		p.Started = time.UnixMilli(ms)
	}
	// uids are real, effective, saved, fs: the effective one decides access.
	if uids, err := gp.UidsWithContext(ctx); err == nil && len(uids) > 1 {
		p.UID = uids[1]
		p.User = c.userName(p.UID)
	} else {
		p.UID = -1
	}
	p.Unit = readSystemdUnit(c.procRoot, pid)
	p.Name, p.Cmdline, p.Exe = printable(p.Name), printable(p.Cmdline), printable(p.Exe)
	return p
}

func (c *processCache) userName(uid int32) string {
	if name, ok := c.users[uid]; ok {
		return name
	}
	name := strconv.Itoa(int(uid))
	if u, err := user.LookupId(name); err == nil {
		name = u.Username
	}
	c.users[uid] = name
	return name
}

// readStartTicks reads a process's start time from /proc/PID/stat. The
// command name (field 2) may hold spaces and parentheses, so fields are
// counted from the last ')'.
func readStartTicks(procRoot string, pid int32) (uint64, error) {
	data, err := os.ReadFile(filepath.Join(procRoot, strconv.Itoa(int(pid)), "stat"))
	if err != nil {
		return 0, err
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, os.ErrInvalid
	}
	// after ')' come fields 3, 4, ...: starttime is field 22, index 19 here.
	f := strings.Fields(s[i+1:])
	if len(f) < 20 {
		return 0, os.ErrInvalid
	}
	return strconv.ParseUint(f[19], 10, 64)
}

// readSystemdUnit finds the systemd unit (a .service or .scope) that a
// process runs in, from the last such element of its cgroup path.
func readSystemdUnit(procRoot string, pid int32) string {
	data, err := os.ReadFile(filepath.Join(procRoot, strconv.Itoa(int(pid)), "cgroup"))
	if err != nil {
		return ""
	}
	return systemdUnitFromCgroup(string(data))
}

func systemdUnitFromCgroup(cgroup string) string {
	unit := ""
	for _, line := range strings.Split(cgroup, "\n") {
		// "0::/system.slice/nginx.service" (v2) or "1:name=systemd:/..." (v1)
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 || (parts[1] != "" && parts[1] != "name=systemd") {
			continue
		}
		for _, el := range strings.Split(parts[2], "/") {
			if strings.HasSuffix(el, ".service") || strings.HasSuffix(el, ".scope") {
				unit = el
			}
		}
		if unit != "" {
			return unit
		}
	}
	return unit
}

// printable makes text that a process chose (its name, its arguments) safe
// to print on a terminal: a name holding escape sequences could otherwise
// rewrite the analyst's screen. Newlines and tabs become spaces, other
// control characters '?'.
func printable(s string) string {
	clean := true
	for _, r := range s {
		if unicode.IsControl(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\t':
			return ' '
		case unicode.IsControl(r):
			return '?'
		}
		return r
	}, s)
}
