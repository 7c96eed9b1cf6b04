//go:build linux

package collect

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/clean"
	"github.com/portwatch/portwatch/sockets/pkgproof"
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
	// proof proves each new process's executable (a stat, and a hash once
	// per file in its life); stdio says which socket inodes a process
	// holds at descriptors 0-2, as the owner index last read them.
	proof *pkgproof.Checker
	stdio func(pid int32) [3]uint64
	// events is the kernel's word on which processes execed, renamed themselves or exited
	// (procevents_linux.go); nil where it was refused or not asked for. Each poll takes it once
	// (begin): where it is complete (trusted), a cached process the kernel did not name is kept
	// without a read; where not, every owner's /proc/PID/stat is read, as without events.
	events   *procEvents
	changed  map[int32]uint8 // this poll's: pid -> evExec|evComm|evExit
	trusted  bool            // this poll's changed is complete: a pid not in it did not change
	lastFull time.Time       // the last poll that read every owner's stat
	onStat   func(pid int32) // called on every read of /proc/PID/stat; tests count them
}

// fullIdentityEvery is how often every owner's stat is read even while the kernel's events are
// complete: a safety net under what events cannot say (a process whose main thread exited
// before its other threads, then its pid reused, emits no exit event for the main thread last).
const fullIdentityEvery = 30 * time.Second

type cachedProcess struct {
	id    procIdentity
	comm  string // the name in /proc/PID/stat when it was read
	proc  *sockets.Process
	seen  bool      // held a socket in the current poll
	exeAt time.Time // when /proc/PID/exe was last read (exerecheck.go)
}

func newProcessCache(procRoot string) *processCache {
	c := &processCache{procRoot: procRoot, byPID: map[int32]cachedProcess{}, users: map[int32]string{}}
	if procRoot == "/proc" {
		c.proof = pkgproof.System()
	} else {
		c.proof = pkgproof.NewAt(procRoot, "/var/lib/dpkg", "/var/lib/rpm")
	}
	return c
}

// withStdio is the process as it is now at descriptors 0-2: the same
// value while they hold the same sockets (nearly always: one map look-up
// per owning process per poll), a copy with the new ones where they
// changed (a shell whose descriptors were dup2()ed onto a connection).
func (c *processCache) withStdio(cp *cachedProcess) {
	if c.stdio == nil {
		return
	}
	if now := c.stdio(cp.id.pid); now != cp.proc.Stdio {
		p := *cp.proc
		p.Stdio = now
		cp.proc = &p
	}
}

// begin takes, once a poll before the first get, the kernel's word on which processes changed.
func (c *processCache) begin(now time.Time) {
	c.changed, c.trusted = nil, false
	if c.events != nil {
		var all bool
		c.changed, all = c.events.take()
		c.trusted = !all && now.Sub(c.lastFull) < fullIdentityEvery
	}
	if !c.trusted {
		c.lastFull = now
	}
}

// get returns the process with this pid, reading it in full only if it is
// new, its pid now belongs to another process, its name has changed or it
// execed. It returns nil for a process that has exited.
//
// A process keeps its pid and start time when it execs another program or
// renames itself (prctl PR_SET_NAME). With the kernel's events (begin), a
// cached process the kernel did not name this poll is kept without a read,
// and one it said execed is read again even when its name stayed the same.
// Without them, its name in /proc/PID/stat, read here anyway for the start
// time, tells a rename or an exec to another name, and the process is read
// again. (An exec of a program with the same name is not noticed that way:
// telling it would cost a read of every owner's command line every poll.)
func (c *processCache) get(ctx context.Context, pid int32) *sockets.Process {
	cp, cached := c.byPID[pid]
	if cached && cp.seen {
		return cp.proc // checked already in this poll: a server's 10,000 sockets cost one read
	}
	change := c.changed[pid]
	if cached && c.trusted && change == 0 {
		return c.keep(cp) // the kernel said nothing of it: the same process, name and program
	}
	if c.onStat != nil {
		c.onStat(pid)
	}
	comm, start, err := readStat(c.procRoot, pid)
	if err != nil {
		delete(c.byPID, pid)
		return nil
	}
	id := procIdentity{pid, start}
	if cached && cp.id == id && cp.comm == comm && change&evExec == 0 {
		return c.keep(cp)
	}
	p := c.load(ctx, pid)
	if p == nil {
		delete(c.byPID, pid)
		return nil
	}
	p.StartTicks = start
	if c.stdio != nil {
		p.Stdio = c.stdio(pid)
	}
	// The name read before the load: a rename in between is seen next poll.
	c.byPID[pid] = cachedProcess{id: id, comm: comm, proc: p, seen: true, exeAt: time.Now()}
	return p
}

// keep marks a cached process seen in this poll, with its executable and
// descriptors 0-2 as they are now.
func (c *processCache) keep(cp cachedProcess) *sockets.Process {
	cp.seen = true
	if now := time.Now(); now.Sub(cp.exeAt) >= exeRecheckEvery {
		cp.proc, cp.exeAt = recheckExe(c.procRoot, cp.id.pid, cp.proc), now
	}
	c.withStdio(&cp)
	c.byPID[cp.id.pid] = cp
	return cp.proc
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
	if c.proof != nil {
		// Once per process life; a file already proven costs a stat().
		p.Identity = c.proof.Check(pid, p.Exe, p.ExeDeleted)
	}
	// The process chose its name and arguments, and anyone may name a
	// directory: all of it is cleaned here, where it enters, once.
	p.Name, p.Cmdline, p.Exe = clean.Text(p.Name), clean.Text(p.Cmdline), clean.Text(p.Exe)
	return p
}

func (c *processCache) userName(uid int32) string {
	if name, ok := c.users[uid]; ok {
		return name
	}
	name := strconv.Itoa(int(uid))
	if u, err := user.LookupId(name); err == nil {
		name = clean.Text(u.Username) // from /etc/passwd or a directory service
	}
	c.users[uid] = name
	return name
}

// readStartTicks reads a process's start time from /proc/PID/stat.
func readStartTicks(procRoot string, pid int32) (uint64, error) {
	_, start, err := readStat(procRoot, pid)
	return start, err
}

// readStat reads a process's name and start time from /proc/PID/stat.
func readStat(procRoot string, pid int32) (comm string, start uint64, err error) {
	data, err := os.ReadFile(filepath.Join(procRoot, strconv.Itoa(int(pid)), "stat"))
	if err != nil {
		return "", 0, err
	}
	return parseStat(data)
}

// errBadStat: /proc/PID/stat did not read as the kernel writes it.
var errBadStat = errors.New("malformed /proc/PID/stat")

// parseStat finds the name (field 2, cleaned) and the start time in clock
// ticks since boot (field 22) in the text of /proc/PID/stat. The name is
// the process's choice and may hold spaces and parentheses: it runs from
// the first '(' to the last ')', and the other fields are counted after it.
func parseStat(data []byte) (comm string, start uint64, err error) {
	open, end := bytes.IndexByte(data, '('), bytes.LastIndexByte(data, ')')
	if open < 0 || end < open {
		return "", 0, errBadStat
	}
	// After ')' come fields 3, 4, ...: the start time is the 20th of them.
	rest, field := data[end+1:], 0
	for len(rest) > 0 {
		i := 0
		for i < len(rest) && isStatSpace(rest[i]) {
			i++
		}
		j := i
		for j < len(rest) && !isStatSpace(rest[j]) {
			j++
		}
		if j == i {
			break
		}
		if field++; field == 20 {
			start, err = strconv.ParseUint(string(rest[i:j]), 10, 64)
			if err != nil {
				return "", 0, errBadStat
			}
			return clean.Text(string(data[open+1 : end])), start, nil
		}
		rest = rest[j:]
	}
	return "", 0, errBadStat
}

func isStatSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\t' }

// readSystemdUnit finds the systemd unit (a .service or .scope) that a
// process runs in, from the last such element of its cgroup path.
func readSystemdUnit(procRoot string, pid int32) string {
	data, err := os.ReadFile(filepath.Join(procRoot, strconv.Itoa(int(pid)), "cgroup"))
	if err != nil {
		return ""
	}
	return systemdUnitFromCgroup(string(data))
}

// systemdUnitFromCgroup finds the unit in the text of /proc/PID/cgroup,
// cleaned: anyone who may make a cgroup chooses its name.
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
			break
		}
	}
	return clean.Text(unit)
}
