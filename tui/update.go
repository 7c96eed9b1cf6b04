package tui

import (
	"fmt"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

// Update handles one message. It does no I/O: polls, signals and lookups
// run in commands.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.help.Width = msg.Width
		m.layoutPane()
		m.scrollToCursor()
		return m, nil
	case tickMsg:
		m.now = m.cfg.Now()
		cmds := []tea.Cmd{tickCmd(m.cfg.Interval)}
		if !m.paused && !m.polling {
			cmds = append(cmds, m.startPoll())
		}
		if m.ghosts > 0 { // closed rows whose mark has run out go now
			m.rebuild()
		}
		return m, tea.Batch(cmds...)
	case snapshotMsg:
		m.polling = false
		if msg.seq != m.seq || m.paused {
			return m, nil
		}
		m.now = msg.at
		m.applySnapshot(msg)
		return m, m.resolveVisible()
	case pollErrorMsg:
		m.polling = false
		if msg.seq == m.seq {
			m.now = msg.at
			m.pollErr = msg.err
		}
		return m, nil
	case signalSentMsg:
		return m.signalSent(msg)
	case killCheckMsg:
		return m.killCheck(msg)
	case resolvedMsg:
		m.names[msg.addr] = msg.name
		delete(m.pending, msg.addr)
		m.inflight--
		return m, m.resolveNext()
	case tea.MouseMsg:
		return m.mouse(msg)
	case tea.KeyMsg:
		return m.handleKey(msg)
	}
	return m, nil
}

func (m Model) handleKey(msg tea.KeyMsg) (tea.Model, tea.Cmd) {
	// Keys typed faster than a frame (over a slow link, or by tmux
	// send-keys) arrive as one message: "/6379". Take them one by one.
	if msg.Type == tea.KeyRunes && len(msg.Runes) > 1 && !msg.Paste && !m.filtering {
		var cmds []tea.Cmd
		var model tea.Model = m
		for _, r := range msg.Runes {
			var cmd tea.Cmd
			model, cmd = model.(Model).handleKey(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}, Alt: msg.Alt})
			cmds = append(cmds, cmd)
		}
		return model, tea.Batch(cmds...)
	}
	k := m.keys
	if msg.String() == "ctrl+c" {
		return m, tea.Quit
	}
	switch {
	case m.confirm != nil:
		return m.confirmKey(msg)
	case m.filtering:
		return m.filterKey(msg)
	case m.mode != modeTable:
		switch {
		case key.Matches(msg, k.Back), key.Matches(msg, k.Detail) && m.mode == modeDetail,
			key.Matches(msg, k.Help) && m.mode == modeHelp:
			m.mode = modeTable
			m.layoutPane()
		case key.Matches(msg, k.Quit):
			return m, tea.Quit
		default:
			var cmd tea.Cmd
			m.pane, cmd = m.pane.Update(msg)
			return m, cmd
		}
		return m, nil
	}
	switch {
	case key.Matches(msg, k.Quit):
		return m, tea.Quit
	case key.Matches(msg, k.Up):
		m.moveCursor(-1)
	case key.Matches(msg, k.Down):
		m.moveCursor(1)
	case key.Matches(msg, k.PageUp):
		m.moveCursor(-max(m.tableRows()-1, 1))
	case key.Matches(msg, k.PageDown):
		m.moveCursor(max(m.tableRows()-1, 1))
	case key.Matches(msg, k.Home):
		m.moveCursor(-len(m.rows))
	case key.Matches(msg, k.End):
		m.moveCursor(len(m.rows))
	case key.Matches(msg, k.NextTab):
		m.switchTab((m.tab + 1) % tabCount)
	case key.Matches(msg, k.PrevTab):
		m.switchTab((m.tab + tabCount - 1) % tabCount)
	case key.Matches(msg, k.Tab1):
		m.switchTab(tabListening)
	case key.Matches(msg, k.Tab2):
		m.switchTab(tabEstablished)
	case key.Matches(msg, k.Tab3):
		m.switchTab(tabAll)
	case key.Matches(msg, k.Detail):
		if m.current() != nil {
			m.mode = modeDetail
			m.layoutPane()
		}
	case key.Matches(msg, k.Help):
		m.mode = modeHelp
		m.layoutPane()
	case key.Matches(msg, k.Filter):
		m.filtering = true
		return m, m.filter.Focus()
	case key.Matches(msg, k.Back):
		if m.filter.Value() != "" {
			m.filter.SetValue("")
			m.rebuild()
		}
	case key.Matches(msg, k.Sort):
		m.cycleSort()
	case key.Matches(msg, k.Reverse):
		m.sorts[m.tab].reverse = !m.sorts[m.tab].reverse
		m.rebuild()
	case key.Matches(msg, k.Pause):
		m.togglePause()
	case key.Matches(msg, k.Kill):
		m.askKill()
	case key.Matches(msg, k.Resolve):
		m.resolve = !m.resolve
		if m.resolve {
			m.setStatus("host names on: reverse DNS lookups run in the background")
		} else {
			m.setStatus("host names off")
		}
		return m, m.resolveVisible()
	}
	return m, nil
}

// filterKey edits the filter as the user types; enter keeps it, esc clears it.
func (m Model) filterKey(msg tea.KeyMsg) (tea.Model, tea.Cmd) {
	switch msg.Type {
	case tea.KeyEnter:
		m.filtering = false
		m.filter.Blur()
		return m, nil
	case tea.KeyEsc:
		m.filtering = false
		m.filter.Blur()
		m.filter.SetValue("")
		m.rebuild()
		return m, nil
	}
	var cmd tea.Cmd
	m.filter, cmd = m.filter.Update(msg)
	m.rebuild()
	return m, cmd
}

func (m Model) mouse(msg tea.MouseMsg) (tea.Model, tea.Cmd) {
	if msg.Action != tea.MouseActionPress {
		return m, nil
	}
	switch msg.Button {
	case tea.MouseButtonWheelUp:
		if m.mode == modeTable {
			m.moveCursor(-3)
		} else {
			m.pane.ScrollUp(3)
		}
	case tea.MouseButtonWheelDown:
		if m.mode == modeTable {
			m.moveCursor(3)
		} else {
			m.pane.ScrollDown(3)
		}
	}
	return m, nil
}

func (m *Model) togglePause() {
	m.paused = !m.paused
	if m.paused {
		m.seq++ // a poll in flight now is stale
		m.setStatus("paused: press p to resume")
	} else {
		m.setStatus("resumed")
	}
}

func (m *Model) cycleSort() {
	cols := tabColumns[m.tab]
	st := &m.sorts[m.tab]
	st.col = (st.col + 1) % len(cols)
	st.reverse = false
	m.rebuild()
	m.setStatus(fmt.Sprintf("sorted by %s", cols[st.col].title))
}

func (m *Model) setStatus(s string) {
	m.status, m.statusAt = s, m.now
}
