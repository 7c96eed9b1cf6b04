package tui

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/assess"
	"github.com/portwatch/portwatch/tui/rowset"
)

func TestMain(m *testing.M) {
	// Golden files are plain text: no colour, no bold, no reverse.
	lipgloss.SetColorProfile(termenv.Ascii)
	os.Exit(m.Run())
}

// t0 is the fake clock's start.
var t0 = time.Date(2026, 11, 25, 9, 30, 0, 0, time.UTC)

// fakeSource serves scripted snapshots in turn (the last one repeats) and
// counts its calls. It is the only fake in portwatch's tests.
type fakeSource struct {
	mu    sync.Mutex
	snaps []*sockets.Snapshot
	err   error
	calls int
}

func (f *fakeSource) Snapshot(context.Context) (*sockets.Snapshot, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.err != nil {
		return nil, f.err
	}
	i := min(f.calls-1, len(f.snaps)-1)
	return f.snaps[i], nil
}

func (f *fakeSource) callCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

var (
	procNginx = &sockets.Process{StartTicks: 4200, PID: 812, PPID: 1, Name: "nginx", User: "root", UID: 0,
		Exe: "/usr/sbin/nginx", Cmdline: "nginx: master process /usr/sbin/nginx -g daemon on; master_process on;",
		Started: t0.Add(-3 * time.Hour), Unit: "nginx.service"}
	procWorker = &sockets.Process{StartTicks: 4210, PID: 813, PPID: 812, Name: "nginx", User: "www-data", UID: 33,
		Exe: "/usr/sbin/nginx", Cmdline: "nginx: worker process", Started: t0.Add(-3 * time.Hour), Unit: "nginx.service"}
	procRedis = &sockets.Process{StartTicks: 5100, PID: 940, PPID: 1, Name: "redis-server", User: "redis", UID: 105,
		Exe: "/usr/bin/redis-server", Cmdline: "/usr/bin/redis-server 0.0.0.0:6379", Started: t0.Add(-2 * time.Hour), Unit: "redis-server.service"}
	procSSHD = &sockets.Process{StartTicks: 900, PID: 611, PPID: 1, Name: "sshd", User: "root", UID: 0,
		Exe: "/usr/sbin/sshd", Cmdline: "sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups", Started: t0.Add(-26 * time.Hour), Unit: "ssh.service"}
	procDropper = &sockets.Process{StartTicks: 88000, PID: 4711, PPID: 1, Name: "kworkerd", User: "www-data", UID: 33,
		Exe: "/tmp/.cache/kworkerd", ExeDeleted: true, Cmdline: "/tmp/.cache/kworkerd -l 31337", Started: t0.Add(-10 * time.Minute)}
	procCurl = &sockets.Process{StartTicks: 99000, PID: 5120, PPID: 600, Name: "curl", User: "alice", UID: 1000,
		Exe: "/usr/bin/curl", Cmdline: "curl https://example.org/", Started: t0.Add(-5 * time.Second)}
)

func sk(proto sockets.Proto, fam int, local string, lport uint16, remote string, rport uint16, state string, inode uint64, owners ...*sockets.Process) sockets.Socket {
	s := sockets.Socket{Proto: proto, Family: fam, Local: netip.MustParseAddr(local), LPort: lport,
		Remote: netip.MustParseAddr(remote), RPort: rport, State: state, Inode: inode, Owners: owners, OwnerStatus: sockets.OwnerKnown}
	if len(owners) == 0 {
		s.OwnerStatus = sockets.OwnerNone
		if inode != 0 {
			s.OwnerStatus, s.UID = sockets.OwnerHidden, 1001
		}
	}
	return s
}

// fixtureSockets is a small server: web, ssh, a database exposed by mistake,
// a backdoor from /tmp, a few connections and TCP states.
func fixtureSockets() []sockets.Socket {
	socks := []sockets.Socket{
		sk(sockets.TCP, 4, "0.0.0.0", 80, "0.0.0.0", 0, "LISTEN", 101, procNginx, procWorker),
		sk(sockets.TCP, 6, "::", 22, "::", 0, "LISTEN", 102, procSSHD),
		sk(sockets.TCP, 4, "0.0.0.0", 6379, "0.0.0.0", 0, "LISTEN", 103, procRedis),
		sk(sockets.TCP, 4, "0.0.0.0", 31337, "0.0.0.0", 0, "LISTEN", 104, procDropper),
		sk(sockets.UDP, 4, "127.0.0.53", 53, "0.0.0.0", 0, "UNCONN", 105),
		sk(sockets.TCP, 4, "127.0.0.1", 5432, "0.0.0.0", 0, "LISTEN", 106),
		sk(sockets.TCP, 4, "10.0.0.5", 80, "10.0.0.9", 51234, "ESTABLISHED", 201, procWorker),
		sk(sockets.TCP, 6, "10.0.0.5", 22, "10.0.0.7", 60022, "ESTABLISHED", 202, procSSHD),
		sk(sockets.TCP, 4, "10.0.0.5", 41000, "93.184.216.34", 443, "ESTABLISHED", 203, procCurl),
		sk(sockets.TCP, 4, "10.0.0.5", 41001, "93.184.216.34", 443, "TIME_WAIT", 0),
		sk(sockets.TCP, 4, "10.0.0.5", 80, "10.0.0.9", 51200, "CLOSE_WAIT", 204, procWorker),
		sk(sockets.TCP, 4, "10.0.0.5", 41002, "10.0.0.1", 8080, "SYN_SENT", 205, procCurl),
	}
	socks[1].DualStack = true
	sockets.SetDirections(socks)
	return socks
}

func snapAt(at time.Time, socks []sockets.Socket) *sockets.Snapshot {
	return &sockets.Snapshot{Taken: at, Took: 7300 * time.Microsecond, Sockets: socks, Root: true, Method: "procfs"}
}

// fakeClock is a clock the test moves by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// timerMsg is a timer the model asked for (Config.After): the harness
// holds it, and the test delivers it when it chooses.
type timerMsg struct {
	after time.Duration
	msg   tea.Msg
}

// harness drives a Model through Update as the program would.
type harness struct {
	t      *testing.T
	m      Model
	src    *fakeSource
	clock  *fakeClock
	timers []timerMsg // timers asked for and not delivered
	kills  []string
	killFn func(pid int32, sig syscall.Signal) error
}

func newHarness(t *testing.T, w, h int, snaps ...*sockets.Snapshot) *harness {
	t.Helper()
	hs := &harness{t: t, src: &fakeSource{snaps: snaps}, clock: &fakeClock{now: t0}}
	hs.m = New(Config{
		Source:    hs.src,
		Knowledge: assess.NewKnowledge("/nonexistent/services", "/nonexistent/range"),
		Interval:  time.Second,
		Hostname:  "web-01",
		Now:       hs.clock.Now,
		SelfPID:   99999,
		After: func(d time.Duration, msg tea.Msg) tea.Cmd {
			return func() tea.Msg { return timerMsg{d, msg} }
		},
		Signal: func(p sockets.Process, sig syscall.Signal) error {
			hs.kills = append(hs.kills, fmt.Sprintf("%d %v", p.PID, sig))
			if hs.killFn != nil {
				return hs.killFn(p.PID, sig)
			}
			return nil
		},
		LookupAddr: func(_ context.Context, addr string) ([]string, error) {
			if addr == "93.184.216.34" {
				return []string{"example.org."}, nil
			}
			return nil, errors.New("no name")
		},
	})
	hs.send(tea.WindowSizeMsg{Width: w, Height: h})
	return hs
}

// send delivers a message and runs the commands it returns: every command
// of the monitor completes at once in tests (the source is a fake, timers
// come back as timerMsg), so each is run and its message dispatched by type.
func (hs *harness) send(msg tea.Msg) {
	hs.t.Helper()
	m, cmd := hs.m.Update(msg)
	hs.m = m.(Model)
	hs.run(cmd)
}

func (hs *harness) run(cmd tea.Cmd) {
	hs.t.Helper()
	if cmd == nil {
		return
	}
	switch msg := cmd().(type) {
	case nil:
	case tea.BatchMsg:
		for _, c := range msg {
			hs.run(c)
		}
	case timerMsg:
		hs.timers = append(hs.timers, msg)
	default:
		hs.send(msg)
	}
}

// fire delivers the timers the model asked for whose message is of the
// same type as want, and forgets them.
func (hs *harness) fire(want tea.Msg) int {
	hs.t.Helper()
	var keep, due []timerMsg
	for _, tm := range hs.timers {
		if fmt.Sprintf("%T", tm.msg) == fmt.Sprintf("%T", want) {
			due = append(due, tm)
		} else {
			keep = append(keep, tm)
		}
	}
	hs.timers = keep
	for _, tm := range due {
		hs.send(tm.msg)
	}
	return len(due)
}

// poll is one tick: the clock moves a second and a poll runs.
func (hs *harness) poll() {
	hs.t.Helper()
	hs.clock.Advance(time.Second)
	hs.send(tickMsg{})
}

func (hs *harness) keys(keys ...string) {
	hs.t.Helper()
	for _, k := range keys {
		hs.send(keyMsg(k))
	}
}

func keyMsg(k string) tea.KeyMsg {
	switch k {
	case "enter":
		return tea.KeyMsg{Type: tea.KeyEnter}
	case "esc":
		return tea.KeyMsg{Type: tea.KeyEsc}
	case "tab":
		return tea.KeyMsg{Type: tea.KeyTab}
	case "shift+tab":
		return tea.KeyMsg{Type: tea.KeyShiftTab}
	case "down":
		return tea.KeyMsg{Type: tea.KeyDown}
	case "up":
		return tea.KeyMsg{Type: tea.KeyUp}
	case "backspace":
		return tea.KeyMsg{Type: tea.KeyBackspace}
	case "pgdown":
		return tea.KeyMsg{Type: tea.KeyPgDown}
	case "home":
		return tea.KeyMsg{Type: tea.KeyHome}
	case "end":
		return tea.KeyMsg{Type: tea.KeyEnd}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(k)}
}

func (hs *harness) selectedKey() sockets.SocketKey {
	if r := hs.m.table.current(); r != nil {
		return r.Key()
	}
	return sockets.SocketKey{}
}

// rows is the current tab's rows.
func (hs *harness) rows() []*rowset.Row { return hs.m.table.view().Rows() }

// cursor is the selected row's index.
func (hs *harness) cursor() int { return hs.m.table.view().Cursor() }

// selectPort moves the cursor to the first row with this local port.
func (hs *harness) selectPort(port uint16) {
	hs.t.Helper()
	hs.keys("g")
	for i := 0; i < len(hs.rows()); i++ {
		if hs.m.table.current().Socket.LPort == port {
			return
		}
		hs.keys("j")
	}
	hs.t.Fatalf("no row with port %d", port)
}

// reply is a finished poll of snap, as the poll command would send it.
func (hs *harness) reply(seq int, snap *sockets.Snapshot, at time.Time) snapshotMsg {
	return snapshotMsg{seq: seq, snap: snap, assessment: assess.Assess(snap, hs.m.cfg.Knowledge), at: at}
}

// newPoller is the poll command's state as the model makes it, for tests
// that run polls by hand.
func testPoller(src sockets.Source, now func() time.Time) *poller {
	return newPoller(Config{Source: src, Knowledge: assess.NewKnowledge("/nonexistent", "/nonexistent"), Now: now})
}
