package tui

import (
	"context"
	"fmt"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/portwatch/portwatch/tui/rowset"
)

// labTimeout bounds one step of the lab: a step holds states for a few
// seconds so that polls see them.
const labTimeout = time.Minute

// labState is where the lab (portwatch lab) stands: its step, what the
// class is told, and whether a step is being made.
type labState struct {
	step      int // the step shown, -1 before the first
	narration Narration
	busy      bool // a step is being made: the scene takes one at a time
	err       error
}

// labStepMsg is a step made (or not), with its narration.
type labStepMsg struct {
	step      int
	narration Narration
	err       error
}

// goLab makes step i of the scene happen, in a command: it opens sockets and
// starts processes, and takes seconds.
func (m *Model) goLab(i int) tea.Cmd {
	if m.cfg.Lab == nil || m.lab.busy || i < 0 || i >= m.cfg.Lab.Steps() {
		return nil
	}
	m.lab.busy = true
	scene := m.cfg.Lab
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), labTimeout)
		defer cancel()
		n, err := scene.Go(ctx, i)
		return labStepMsg{step: i, narration: n, err: err}
	}
}

// labStepped shows a step: its narration, and the tab and filter that show
// its sockets.
func (m *Model) labStepped(msg labStepMsg) {
	m.lab.busy = false
	if msg.err != nil {
		m.lab.err = msg.err
		m.setStatus(fmt.Sprintf("lab step %d failed: %v", msg.step+1, msg.err))
		return
	}
	m.lab.step, m.lab.narration, m.lab.err = msg.step, msg.narration, nil
	switch msg.narration.Tab {
	case "established":
		m.table.tab = rowset.Established
	case "all":
		m.table.tab = rowset.All
	default:
		m.table.tab = rowset.Listening
	}
	m.table.link = nil
	m.filter.clear()
	m.filter.set(msg.narration.Filter)
	m.refreshRows()
}

// narrationLines is the lab's pane above the table: the step, what happened
// and what to look at, and the keys. At most a third of the screen.
func (m *Model) narrationLines() []string {
	if m.cfg.Lab == nil {
		return nil
	}
	w := max(m.width, 1)
	n := m.lab.narration
	head := fmt.Sprintf("Lab %d/%d: %s", n.Step, n.Steps, n.Title)
	switch {
	case m.lab.busy:
		head += "  (making it happen…)"
	case m.lab.step < 0:
		head = "Lab: setting up the first step…"
	}
	lines := []string{m.theme.PaneTitle.Render(fit(head, w))}
	for _, l := range hanging("  ", "  ", n.Text, w) {
		lines = append(lines, fit(l, w))
	}
	lines = append(lines, m.theme.Muted.Render(fit("  n or space: next step · b: back · L: learn · q: quit and clean up", w)))
	limit := max(m.height/3, 3)
	if len(lines) > limit {
		lines = append(lines[:limit-1], m.theme.Muted.Render(fit("  … (the rest with a taller terminal)", w)))
	}
	return lines
}
