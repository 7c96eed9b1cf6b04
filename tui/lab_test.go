package tui

import (
	"context"
	"slices"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/portwatch/portwatch/tui/rowset"
)

// scriptedScene stands in for the lab's real scene (sockets/lab tests the
// real one): it records the steps asked for and narrates them.
type scriptedScene struct{ asked []int }

func (s *scriptedScene) Steps() int { return 3 }

func (s *scriptedScene) Go(_ context.Context, i int) (Narration, error) {
	s.asked = append(s.asked, i)
	n := Narration{Step: i + 1, Steps: 3, Title: []string{"1. A server starts listening", "2. A client connects", "3. The client closes"}[i],
		Text: "Port 80 is in LISTEN: a door of this machine. Look at the Listening tab: the row with PORT 80, its process and its exposure.",
		Tab:  []string{"listening", "established", "all"}[i], Filter: ":80"}
	return n, nil
}

func (s *scriptedScene) Close() error { return nil }

func labHarness(t *testing.T, w, h int) (*harness, *scriptedScene) {
	t.Helper()
	hs := newHarness(t, w, h, snapAt(t0, fixtureSockets()))
	scene := &scriptedScene{}
	cfg := hs.m.cfg
	cfg.Lab = scene
	hs.m = New(cfg)
	hs.send(tea.WindowSizeMsg{Width: w, Height: h})
	hs.run(hs.m.Init())
	return hs, scene
}

func TestLabWalksItsSteps(t *testing.T) {
	hs, scene := labHarness(t, 100, 30)
	if len(scene.asked) != 1 || hs.m.lab.step != 0 || !strings.Contains(hs.m.View(), "Lab 1/3: 1. A server starts listening") {
		t.Fatalf("the first step did not start: %v\n%s", scene.asked, hs.m.View())
	}
	hs.keys("n")
	if hs.m.lab.step != 1 || hs.m.table.tab != rowset.Established || hs.m.filter.value() != ":80" {
		t.Errorf("n: step %d tab %v filter %q", hs.m.lab.step, hs.m.table.tab, hs.m.filter.value())
	}
	hs.keys(" ") // space is next too
	hs.keys("n") // past the last: nothing
	hs.keys("b")
	if got := scene.asked; len(got) != 4 || got[3] != 1 {
		t.Errorf("steps asked %v, want 0 1 2 1", got)
	}
	if hs.m.saving != nil {
		t.Error("b opened the baseline dialog in a lab")
	}
	// A step still being made takes no other.
	hs.m.lab.busy = true
	if cmd := hs.m.goLab(2); cmd != nil {
		t.Error("a second step started while one was being made")
	}
}

func TestLabGolden(t *testing.T) {
	hs, _ := labHarness(t, 80, 24)
	hs.clock.Advance(42e9)
	hs.send(tickMsg{})
	golden.RequireEqual(t, []byte(hs.m.View()))
}

// A full-screen view scrolled to its end under the narration shows its
// last lines.
func TestLabViewEndGolden(t *testing.T) {
	for _, k := range []struct{ name, key string }{{"help", "?"}, {"learn", "L"}, {"detail", "enter"}} {
		t.Run(k.name+"_80x24", func(t *testing.T) {
			hs, _ := labHarness(t, 80, 24)
			hs.keys(k.key, "G")
			golden.RequireEqual(t, []byte(hs.m.View()))
		})
	}
}

// longScene narrates as the real lab does: four or five lines at 80
// columns.
type longScene struct{ scriptedScene }

func (s *longScene) Go(ctx context.Context, i int) (Narration, error) {
	n, err := s.scriptedScene.Go(ctx, i)
	n.Text = "A backdoor: a program from /tmp listens on port 31337, a port no service uses. Its owner left it to come back later; nothing asked for it, and nothing should connect to it. Look at its findings in the details below: the port, the executable's place, the deleted file."
	n.Filter = "31337"
	return n, err
}

// Issue 25: at 80x24 a step's findings were below the fold, under the
// service's description. A pane too short for everything shows them first.
func TestLabFindingsAboveTheFold(t *testing.T) {
	hs := newHarness(t, 80, 24, snapAt(t0, fixtureSockets()))
	cfg := hs.m.cfg
	cfg.Lab = &longScene{}
	hs.m = New(cfg)
	hs.send(tea.WindowSizeMsg{Width: 80, Height: 24})
	hs.run(hs.m.Init())
	v := hs.m.View()
	for _, want := range []string{"Findings", "HIGH   Port 31337"} {
		if !strings.Contains(v, want) {
			t.Errorf("the step's findings are not on screen (%q):\n%s", want, v)
		}
	}
	golden.RequireEqual(t, []byte(v))
}

// Found replaying the lesson in tmux: L scrolled to its end at 80x24, then
// the terminal made taller, showed its last lines at the top and blank
// lines under them; its title was out of reach. The end stays at the
// bottom, and a view that now fits shows from its first line.
func TestViewEndThenTallerShowsAll(t *testing.T) {
	for _, k := range []string{"?", "L"} {
		hs, _ := labHarness(t, 80, 24)
		hs.keys(k, "G")
		hs.send(tea.WindowSizeMsg{Width: 80, Height: 400})
		lines := strings.Split(hs.m.View(), "\n")
		v := hs.m.openView()
		if v == nil {
			t.Fatalf("%s: no view open after the resize", k)
		}
		first := strings.Split(v.text(&hs.m, 80), "\n")[0]
		if !slices.ContainsFunc(lines, func(l string) bool { return strings.Contains(l, strings.TrimSpace(first)) }) {
			t.Errorf("%s: the view's first line %q is not on the taller screen:\n%s", k, first, hs.m.View())
		}
		if hs.m.pane.YOffset != 0 {
			t.Errorf("%s: offset %d on a screen the whole view fits", k, hs.m.pane.YOffset)
		}
	}
}
