package tui

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/teatest"
	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/assess"
	"github.com/portwatch/portwatch/tui/rowset"
)

// TestProgramFlow runs the model in a real bubbletea program: the first
// poll shows the listeners, 2 switches tabs, enter opens the details, q quits.
func TestProgramFlow(t *testing.T) {
	src := &fakeSource{snaps: []*sockets.Snapshot{snapAt(t0, fixtureSockets())}}
	m := New(Config{Source: src, Knowledge: assess.NewKnowledge("/nonexistent", "/nonexistent"),
		Interval: 100 * time.Millisecond, Hostname: "web-01", SelfPID: 99999})
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(80, 24))
	waitFor := func(what string) {
		t.Helper()
		teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return bytes.Contains(b, []byte(what)) },
			teatest.WithDuration(5*time.Second), teatest.WithCheckInterval(20*time.Millisecond))
	}
	waitFor("31337")
	for deadline := time.Now().Add(5 * time.Second); src.callCount() < 3 && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("2")})
	waitFor("[2 Established (3)]")
	tm.Send(tea.KeyMsg{Type: tea.KeyEnter})
	waitFor("inbound connection")
	tm.Send(tea.KeyMsg{Type: tea.KeyEsc})
	tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("q")})
	final := tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(Model)
	if final.table.tab != rowset.Established || final.openView() != nil {
		t.Errorf("final tab %d view %d", final.table.tab, final.open)
	}
	if src.callCount() < 3 {
		t.Errorf("the program polled %d times: the ticker does not re-arm", src.callCount())
	}
	out, _ := io.ReadAll(tm.FinalOutput(t))
	if strings.Contains(string(out), "panic") {
		t.Error("panic in output")
	}
}
