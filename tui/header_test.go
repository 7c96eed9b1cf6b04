package tui

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/assess"
	"github.com/portwatch/portwatch/sockets/reach"
)

// portFirewall answers by port; every other port is open.
type portFirewall map[uint16]reach.Verdict

func (f portFirewall) Evaluate(_ string, _ netip.Addr, port uint16) reach.Verdict {
	if v, ok := f[port]; ok {
		return v
	}
	return reach.Verdict{Kind: reach.Open, Rule: "chain inet filter input: policy accept"}
}

func withFirewall(snap *sockets.Snapshot, fw sockets.Firewall) *sockets.Snapshot {
	out := *snap
	out.Firewalls = map[uint64]sockets.Firewall{0: fw}
	return &out
}

// headerText is the header's lines joined: a warning wrapped onto two
// lines reads whole.
func headerText(m Model) string {
	var parts []string
	for _, l := range m.headerLines() {
		parts = append(parts, strings.TrimSpace(ansi.Strip(l)))
	}
	return strings.Join(parts, " ")
}

// Issue 22: the header counted an unknown verdict as reachable ("10
// reachable" when the kernel admits 7). It counts them apart.
func TestHeaderCountsReachableUnreachableAndUnknownApart(t *testing.T) {
	fw := portFirewall{
		80:   {Kind: reach.Unknown, Reason: "a rule portwatch cannot decide"},
		6379: {Kind: reach.Filtered, Rule: "chain inet filter input: tcp dport 6379 drop"},
	}
	hs := started(t, 120, 40, withFirewall(snapAt(t0, fixtureSockets()), fw))
	// Outside loopback: 22, 80, 6379, 31337. 6379 filtered, 80 unknown.
	want := surfaceCounts{reachable: 2, high: 1, unreachable: 1, unknown: 1, outside: 4}
	if hs.m.surface != want {
		t.Errorf("surface %+v, want %+v", hs.m.surface, want)
	}
	if h := headerText(hs.m); !strings.Contains(h, "2 reachable (1 HIGH) · 1 unreachable · 1 unknown") {
		t.Errorf("header: %s", h)
	}
}

// Unknowns are many: the header warns, whatever the reason.
func TestHeaderWarnsWhenUnknownsAreMany(t *testing.T) {
	fw := portFirewall{}
	for _, p := range []uint16{22, 80, 6379, 31337} {
		fw[p] = reach.Verdict{Kind: reach.Unknown, Reason: "a set whose contents portwatch cannot read"}
	}
	hs := started(t, 80, 24, withFirewall(snapAt(t0, fixtureSockets()), fw))
	if h := headerText(hs.m); !strings.Contains(h, "! firewall verdict unknown for 4 of 4 listeners: they may be reachable") ||
		!strings.Contains(h, "0 reachable") {
		t.Errorf("header: %s", h)
	}
	// One unknown of four is not many.
	fw = portFirewall{80: {Kind: reach.Unknown, Reason: "a rule portwatch cannot decide"}}
	hs = started(t, 80, 24, withFirewall(snapAt(t0, fixtureSockets()), fw))
	if h := headerText(hs.m); strings.Contains(h, "!") {
		t.Errorf("one unknown of four warned: %s", h)
	}
}

// notRootSnapshot is the fixture as a user who is not root sees it: owners
// hidden, namespaces skipped, and the firewall unreadable.
func notRootSnapshot(at time.Time) *sockets.Snapshot {
	snap := snapAt(at, fixtureSockets())
	snap.Root, snap.Hidden, snap.NetnsSkipped = false, 3, 2
	fw := portFirewall{}
	for _, p := range []uint16{22, 80, 6379, 31337} {
		fw[p] = reach.Verdict{Kind: reach.Unknown, Reason: reach.ReasonNotRoot}
	}
	return withFirewall(snap, fw)
}

// Issue 26: at 80 and 100 columns the header cut the non-root warning and
// the firewall's reason. Each is whole, on a warning line of its own.
func TestHeaderKeepsEveryWarningWhole(t *testing.T) {
	for _, w := range []int{60, 80, 100, 120} {
		hs := started(t, w, 24, notRootSnapshot(t0))
		h := headerText(hs.m)
		for _, want := range []string{"3 owners hidden, namespaces skipped: run as root",
			"firewall not read (not root, needs CAP_NET_ADMIN): 4 of 4 listeners unknown"} {
			if !strings.Contains(h, want) {
				t.Errorf("at %d columns the header lacks %q:\n%s", w, want, hs.m.View())
			}
		}
		if !strings.Contains(hs.m.View(), "sort PORT ↑") {
			t.Errorf("at %d columns the sort column is cut:\n%s", w, hs.m.View())
		}
	}
}

func TestHeaderWarningsGolden(t *testing.T) {
	hs := started(t, 80, 24, notRootSnapshot(t0))
	golden.RequireEqual(t, []byte(hs.m.View()))
}

// scanSnapshots are a minute and a half of polls, a second apart: a scan
// of closed ports makes the kernel send 50 resets and reset 3 half-open
// connections in the second poll, then nothing moves.
func scanSnapshots() []*sockets.Snapshot {
	var out []*sockets.Snapshot
	for i := range 90 {
		snap := snapAt(t0.Add(time.Duration(i)*time.Second), fixtureSockets())
		c := sockets.TCPCounters{Netns: sockets.HostNetns}
		if i >= 1 {
			c.OutRsts, c.EmbryonicRsts = 50, 3
		}
		snap.TCPStats = map[uint64]sockets.TCPCounters{0: c}
		out = append(out, snap)
	}
	return out
}

// A scan in the kernel's counters is on the header's warning line for as
// long as the assessment holds it, and its text is in the events view.
func TestScanStaysOnScreenWhileHeld(t *testing.T) {
	hs := started(t, 80, 24, scanSnapshots()...)
	hs.poll()
	if h := headerText(hs.m); !strings.Contains(h, "! SCAN: 50 closed-port resets, 3 half-open (nmap -sS) (e)") {
		t.Fatalf("no scan on the header after the scan:\n%s", hs.m.View())
	}
	for i := 0; i < 50; i++ {
		hs.poll()
	}
	if h := headerText(hs.m); !strings.Contains(h, "SCAN") || !strings.Contains(h, "50s ago") {
		t.Errorf("the scan left the header while it was held:\n%s", hs.m.View())
	}
	hs.keys("e")
	v := hs.m.View()
	if !strings.Contains(v, "Scans seen in the kernel's counters") || !strings.Contains(v, "50 connection attempts to closed ports were answered") {
		t.Errorf("the events view lacks the scan:\n%s", v)
	}
	hs.keys("esc")
	for i := 0; i < int(assess.ScanHold/time.Second)+5; i++ {
		hs.poll()
	}
	if h := headerText(hs.m); strings.Contains(h, "SCAN") {
		t.Errorf("the scan stayed after the assessment dropped it: %s", h)
	}
}

func TestScanHeaderGolden(t *testing.T) {
	hs := started(t, 80, 24, scanSnapshots()...)
	hs.poll()
	golden.RequireEqual(t, []byte(hs.m.View()))
}

// Issue 26: the baseline and kill prompts lost their ends at 80 columns.
// The question wraps onto two lines, y/n and all.
func TestPromptsFitAtEightyColumns(t *testing.T) {
	for _, w := range []int{60, 80, 100} {
		hs := started(t, w, 24)
		cfg := hs.m.cfg
		cfg.BaselinePath = "/etc/portwatch/a-rather-long-directory-name/baseline.conf"
		hs.m = New(cfg)
		hs.send(windowSize(w, 24))
		hs.send(tickMsg{})
		hs.keys("b")
		status := joinWrapped(statusText(hs.m))
		if !strings.Contains(status, cfg.BaselinePath+"? y/n") {
			t.Errorf("at %d columns the baseline prompt reads %q", w, status)
		}
		hs.keys("n", "G", "K")
		status = joinWrapped(statusText(hs.m))
		if !strings.Contains(status, "End pid 4711 (kworkerd, user www-data) with SIGTERM? y/n") {
			t.Errorf("at %d columns the kill prompt reads %q", w, status)
		}
		for _, l := range strings.Split(hs.m.View(), "\n") {
			if ansi.StringWidth(l) > w {
				t.Fatalf("at %d columns a line is %d wide", w, ansi.StringWidth(l))
			}
		}
		if n := len(strings.Split(hs.m.View(), "\n")); n != 24 {
			t.Errorf("at %d columns the screen is %d lines", w, n)
		}
	}
}

// joinWrapped joins wrapped lines back: a line broken after a hyphen
// joins without a space.
func joinWrapped(lines []string) string {
	var b strings.Builder
	for i, l := range lines {
		if i > 0 && !strings.HasSuffix(lines[i-1], "-") {
			b.WriteString(" ")
		}
		b.WriteString(l)
	}
	return b.String()
}

func statusText(m Model) []string {
	var out []string
	for _, l := range m.statusLines() {
		out = append(out, strings.TrimSpace(ansi.Strip(l)))
	}
	return out
}

func TestBaselinePromptGolden(t *testing.T) {
	hs := started(t, 80, 24)
	cfg := hs.m.cfg
	cfg.BaselinePath = "/etc/portwatch/baseline"
	hs.m = New(cfg)
	hs.send(windowSize(80, 24))
	hs.send(tickMsg{})
	hs.keys("b")
	golden.RequireEqual(t, []byte(hs.m.View()))
}

// A filter too long for the tab bar is cut, and stays apart from the sort.
func TestTabBarCutsTheFilterBeforeTheSort(t *testing.T) {
	hs := started(t, 80, 24)
	hs.keys("/")
	hs.keys(strings.Split("abcdefghijklmnopqrstuvwxyz", "")...)
	hs.keys("enter", "3")
	bar := ansi.Strip(strings.Split(hs.m.View(), "\n")[len(hs.m.headerLines())])
	if !strings.Contains(bar, "… · sort STATE ↑") {
		t.Errorf("tab bar: %q", bar)
	}
}
