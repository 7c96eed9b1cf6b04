package tui

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/portwatch/portwatch/sockets"
)

// goldenScreens renders each tab and the detail pane at a fixed size and
// compares them with testdata/*.golden (go test ./tui -update refreshes them).
func TestGolden(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {120, 40}} {
		w, h := size[0], size[1]
		screens := []struct {
			name string
			keys []string
		}{
			{"listening", nil},
			{"listening_risky", []string{"G"}}, // the backdoor from /tmp, last by port
			{"established", []string{"2"}},
			{"all_states", []string{"3"}},
			{"detail_full", []string{"G", "enter"}},
			{"help", []string{"?"}},
			{"filter", []string{"/", "n", "g", "i", "n", "x"}},
			{"kill_confirm", []string{"G", "K"}},
			{"learn", []string{"L"}},
			{"learn_states", []string{"L", "pgdown"}},
			// A view opens at its top, whatever the last one was scrolled to.
			{"detail_after_help_scrolled", []string{"?", "pgdown", "esc", "G", "enter"}},
			// g, G, home and end go to a view's top and bottom.
			{"help_end", []string{"?", "end"}},
			{"learn_end", []string{"L", "G"}},
			{"learn_end_then_top", []string{"L", "G", "g"}},
			{"profile", []string{"R"}},
			{"profile_end", []string{"R", "G"}},
		}
		for _, sc := range screens {
			t.Run(fmt.Sprintf("%s_%dx%d", sc.name, w, h), func(t *testing.T) {
				hs := started(t, w, h)
				hs.clock.Advance(42 * time.Second) // ages are from the fake clock
				hs.send(tickMsg{})
				hs.keys(sc.keys...)
				golden.RequireEqual(t, []byte(hs.m.View()))
			})
		}
	}
}

// bigSnapshot has n connections to a listener plus some of every kind.
func bigSnapshot(n int) *sockets.Snapshot {
	socks := fixtureSockets()
	for i := 0; i < n; i++ {
		remote := netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)})
		state := []string{"ESTABLISHED", "TIME_WAIT", "ESTABLISHED", "CLOSE_WAIT", "FIN_WAIT2"}[i%5]
		owners := []*sockets.Process{procWorker}
		if state == "TIME_WAIT" {
			owners = nil
		}
		s := sk(sockets.TCP, 4, "10.0.0.5", 80, remote.String(), uint16(1024+i), state, uint64(10000+i), owners...)
		socks = append(socks, s)
	}
	for i := 0; i < n/10; i++ {
		socks = append(socks, sk(sockets.UDP, 6, "::", uint16(20000+i), "::", 0, "UNCONN", uint64(90000+i), procRedis))
	}
	sockets.SetDirections(socks)
	return snapAt(t0, socks)
}

// withCounters is a copy of snap taken after d, its TCP connections with
// counters: every one has moved step*inode bytes each way per second.
func withCounters(snap *sockets.Snapshot, d time.Duration, step uint64) *sockets.Snapshot {
	out := *snap
	out.Taken = snap.Taken.Add(d)
	out.Sockets = slices.Clone(snap.Sockets)
	for i := range out.Sockets {
		s := &out.Sockets[i]
		if s.Proto == sockets.TCP && !s.IsListening() && s.Inode != 0 {
			moved := step * s.Inode * uint64(d/time.Second)
			s.Traffic = &sockets.Traffic{BytesSent: 1000 + moved, BytesReceived: 2000 + moved, RTT: 300}
		}
	}
	return &out
}

// TestViewFitsEverySize renders every screen at 1,416 sizes from 1x1 to
// 200x60: no panic, never a line wider than the terminal or more lines.
func TestViewFitsEverySize(t *testing.T) {
	if testing.Short() {
		t.Skip("size sweep")
	}
	snap := bigSnapshot(2000)
	// With the kernel's counters, a second later: rates, sparklines and
	// the programs pane are drawn at every size too.
	later := withCounters(snap, time.Second, 7)
	hs := started(t, 80, 24, withCounters(snap, 0, 0), later)
	hs.poll()
	hs.keys("j", "j", "j")
	base := hs.m
	modes := [][]string{nil, {"2"}, {"3"}, {"enter"}, {"?"}, {"/", "a"}, {"K"}, {"e"}, {"b"}, {"L"}, {"P"}, {"R"}, {"2", "enter"}}
	for _, keys := range modes {
		hs.m = base
		hs.keys(keys...)
		withKeys := hs.m
		for w := 1; w <= 200; w += 1 + w/20 {
			for h := 1; h <= 60; h += 1 + h/10 {
				hs.m = withKeys
				hs.send(windowSize(w, h))
				view := hs.m.View()
				lines := strings.Split(view, "\n")
				if len(lines) > h {
					t.Fatalf("keys %v at %dx%d: %d lines", keys, w, h, len(lines))
				}
				for i, l := range lines {
					if lw := ansi.StringWidth(l); lw > w {
						t.Fatalf("keys %v at %dx%d: line %d is %d wide: %q", keys, w, h, i, lw, l)
					}
				}
			}
		}
	}
}

func TestTooSmallSaysSo(t *testing.T) {
	hs := started(t, 59, 30)
	if v := hs.m.View(); !strings.Contains(v, "terminal too small (59 x 30, need 60 x 12)") {
		t.Errorf("view at 59x30:\n%s", v)
	}
	hs.send(windowSize(60, 12))
	if v := hs.m.View(); strings.Contains(v, "too small") || !strings.Contains(v, "Listen") {
		t.Errorf("view at 60x12:\n%s", v)
	}
}

// At 80x24 every tab shows its essential columns in full.
func TestEightyByTwentyFourKeepsEssentials(t *testing.T) {
	hs := started(t, 80, 24)
	want := map[string][]string{
		"1": {"PORT", "ADDRESS", "SERVICE", "PROCESS", "RISK", "31337", "back-orifice", "kworkerd", "HIGH"},
		"2": {"LOCAL", "REMOTE", "DIR", "SERVICE", "10.0.0.5:41000", "93.184.216.34:443"},
		"3": {"STATE", "LOCAL", "REMOTE", "TIME_WAIT", "SYN_SENT", "ESTABLISHED", "10.0.0.5:41001", "93.184.216.34:443"},
	}
	for tabKey, words := range want {
		hs.keys(tabKey)
		v := hs.m.View()
		for _, w := range words {
			if !strings.Contains(v, w) {
				t.Errorf("tab %s at 80x24 lacks %q:\n%s", tabKey, w, v)
			}
		}
	}
}

func windowSize(w, h int) tea.WindowSizeMsg { return tea.WindowSizeMsg{Width: w, Height: h} }
