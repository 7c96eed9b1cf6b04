package tui

import (
	"fmt"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/baseline"
	"github.com/portwatch/portwatch/tui/rowset"
)

// saveDialog asks before b writes the listeners as the new baseline: a
// baseline decides what is flagged, so it is never replaced by accident.
type saveDialog struct {
	path      string
	listeners []*sockets.Socket // copies of the open listeners, for the command
}

// askSaveBaseline opens the dialog for the listeners on screen now.
func (m *Model) askSaveBaseline() {
	if m.cfg.BaselinePath == "" {
		m.setStatus("no baseline file: start portwatch with --baseline FILE to save one")
		return
	}
	var ls []*sockets.Socket
	for _, r := range m.store.Rows(rowset.Query{Tab: rowset.Listening}, nil) {
		if !r.Removed() && r.Baseline.Status != baseline.Missing {
			s := r.Socket
			ls = append(ls, &s)
		}
	}
	m.saving = &saveDialog{path: m.cfg.BaselinePath, listeners: ls}
	m.setKeys(func(k *keyMap) {
		k.Confirm.SetEnabled(true)
		k.Cancel.SetEnabled(true)
	})
}

func (d *saveDialog) question() string {
	// y/n before the explanation: at a narrow width the explanation is
	// what gives way.
	return fmt.Sprintf("Save the %d listeners as the baseline in %s? y/n · what it lacks will be flagged UNEXPECTED", len(d.listeners), d.path)
}

// saveKey answers the dialog: y saves, in a command; anything else cancels.
func (m Model) saveKey(msg tea.KeyMsg) (tea.Model, tea.Cmd) {
	d, yes := m.saving, key.Matches(msg, m.keys.Confirm)
	m.saving = nil
	m.setKeys(func(k *keyMap) {
		k.Confirm.SetEnabled(false)
		k.Cancel.SetEnabled(false)
	})
	if !yes {
		m.setStatus("cancelled: the baseline is unchanged")
		return m, nil
	}
	eph := m.cfg.Knowledge.Ephemeral
	host, now := m.cfg.Hostname, m.now
	return m, func() tea.Msg {
		b := baseline.FromListeners(d.listeners, eph.Low, eph.High)
		if err := b.Save(d.path, host, now); err != nil {
			return baselineSavedMsg{err: err}
		}
		return baselineSavedMsg{b: b}
	}
}

// baselineSaved takes the new baseline for the next polls.
func (m *Model) baselineSaved(msg baselineSavedMsg) {
	if msg.err != nil {
		m.setStatus("baseline not saved: " + msg.err.Error())
		return
	}
	m.baseline = msg.b
	m.setStatus(fmt.Sprintf("baseline saved: %d entries in %s; listeners are compared with it from the next poll", len(msg.b.Entries), msg.b.Path))
}
