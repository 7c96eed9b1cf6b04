package tui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/portwatch/portwatch/sockets/events"
	"github.com/portwatch/portwatch/tui/rowset"
)

// Update handles one message. It does no I/O: polls, signals and lookups
// run in commands. The header and the status line change height with
// warnings and dialogs: whatever message changed it, the content is sized
// again for it.
//
// Every message but a key changes this copy in place (update), so that a
// poll or a tick costs one copy of the model, the one returned: the model
// is a value, and what a copy holds by pointer (theme, keys, help, the
// filter's input) is replaced, never changed.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	var cmd tea.Cmd
	shown := true // the message may change what the screen shows
	if k, ok := msg.(tea.KeyMsg); ok {
		var next tea.Model
		next, cmd = m.handleKey(k)
		nm, ok := next.(Model)
		if !ok {
			return next, cmd
		}
		m = nm
	} else {
		cmd, shown = m.update(msg)
	}
	if !shown {
		return m, cmd // its frame is the last one (frame.go)
	}
	if m.laidOut != m.chromeHeight() {
		m.relayout()
	}
	m.shows = m.frame.next()
	return m, cmd
}

// update handles every message but a key, and says whether it may have
// changed what the screen shows.
func (m *Model) update(msg tea.Msg) (tea.Cmd, bool) {
	if _, ok := msg.(tickMsg); ok {
		return m.tick()
	}
	return m.handle(msg), true
}

// tick re-arms the ticker and starts a poll. The poll's reply, a moment
// later, moves the clock to its time and draws the screen: until then the
// tick changes nothing shown, and its frame is the last one (frame.go).
// Without a poll to start (paused, or the last still running) the clock
// moves now, and closed rows whose mark has run out go.
func (m *Model) tick() (tea.Cmd, bool) {
	next := m.cfg.After(m.cfg.Interval, tickMsg{})
	if !m.paused && !m.polling {
		return tea.Batch(next, m.startPoll()), false
	}
	m.now = m.cfg.Now()
	m.expire()
	return next, true
}

// expire drops the closed rows whose mark has run out at m.now.
func (m *Model) expire() {
	if m.store.Expire(m.now) {
		m.refreshRows()
	}
}

func (m *Model) handle(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		help := *m.help // copies of the model share the old one
		help.Width = msg.Width
		m.help = &help
		m.relayout()
		return nil
	case snapshotMsg:
		m.polling = false
		if msg.seq != m.seq || m.paused {
			return nil
		}
		m.now = msg.at
		m.applySnapshot(msg)
		return tea.Batch(m.resolver.want(m.table.view().Rows(), m.cfg.LookupAddr), m.noteEvents(msg), m.sortCmd())
	case sortedMsg:
		if m.store.Install(msg.sorted) {
			m.refreshRows()
		}
		return nil
	case pollErrorMsg:
		m.polling = false
		if msg.seq == m.seq {
			m.now = msg.at
			m.pollErr = msg.err
			m.expire() // no poll merged: the ticks' sweep is here
		}
		return nil
	case signalSentMsg:
		m.setStatus(msg.report())
		sent := msg.sentTo()
		if len(sent) == 0 || msg.sig != sigTerm {
			return nil
		}
		m.termed = killCheckMsg{key: msg.key, socket: msg.socket, targets: sent}
		return m.cfg.After(killGrace, m.termed)
	case killCheckMsg:
		m.killCheck(msg)
		return nil
	case labStartMsg:
		return m.goLab(0)
	case labStepMsg:
		m.labStepped(msg)
		return nil
	case baselineSavedMsg:
		m.baselineSaved(msg)
		return nil
	case resolvedMsg:
		return m.resolver.got(msg, m.cfg.LookupAddr)
	case tea.MouseMsg:
		m.mouse(msg)
	}
	return nil
}

// applySnapshot merges a poll into the store and, unless the poll changed
// nothing on screen, rebuilds the rows.
func (m *Model) applySnapshot(msg snapshotMsg) {
	hadScans := m.assessment != nil && len(m.assessment.Scans) > 0
	m.snap, m.assessment = msg.snap, msg.assessment
	m.surface = countSurface(msg.assessment)
	if hadScans || len(msg.assessment.Scans) > 0 {
		m.redrawOn(scansSeen)
	}
	m.table.withBaseline = msg.assessment.Baseline != nil
	m.table.withFirewall = msg.assessment.Firewalled
	m.table.withTraffic = len(msg.flows) > 0
	m.pollErr = nil
	m.lastGood = msg.at
	verdicts := msg.assessment.Verdicts
	if a := msg.assessment; len(a.Missing) > 0 || len(a.Published) > 0 {
		// MISSING listeners are rows too, and the published ports, a row
		// each: after the sockets', in an array kept for it (a new one each
		// poll was 160 KB at 20,000 sockets), emptied once merged so that
		// it holds no verdict alive.
		all := append(append(append(m.scratch.verdicts[:0], verdicts...), a.Missing...), a.Published...)
		defer func() { clear(all); m.scratch.verdicts = all[:0] }()
		verdicts = all
	}
	// Bytes that moved change cells, not the order: the rows are taken and
	// sorted again only when they are sorted by a rate.
	switch ch := m.store.ApplyFlows(verdicts, msg.flows, m.now); {
	case ch.Reordered || ch.Moved && m.table.sortedByTraffic():
		m.refreshRows()
	case ch.Moved:
		m.redrawOn(everyPoll | bytesMoved)
	default:
		m.redrawOn(everyPoll)
	}
	if m.kill != nil {
		if why := m.kill.stale(m.store); why != "" {
			m.closeKill()
			m.setStatus(why)
		}
	}
}

// maxEvents bounds the events pane: an hour of a busy machine, not a day.
const maxEvents = 500

// noteEvents keeps a poll's events, newest first, and rings the bell for a
// new unexpected listener when asked to (--bell).
func (m *Model) noteEvents(msg snapshotMsg) tea.Cmd {
	if msg.logErr != nil {
		m.logErr = msg.logErr
	} else if len(msg.events) > 0 {
		m.logErr = nil
	}
	if len(msg.events) == 0 {
		return nil
	}
	fresh := make([]events.Event, 0, min(len(msg.events)+len(m.events), maxEvents))
	for i := len(msg.events) - 1; i >= 0; i-- {
		fresh = append(fresh, msg.events[i])
	}
	fresh = append(fresh, m.events[:max(0, min(len(m.events), maxEvents-len(fresh)))]...)
	m.events = fresh[:min(len(fresh), maxEvents)]
	m.redrawOn(newEvents)
	if !m.cfg.Bell || m.cfg.Ring == nil {
		return nil
	}
	for _, e := range msg.events {
		if e.Kind == events.Unexpected {
			return m.cfg.Ring
		}
	}
	return nil
}

// killCheck says, after SIGTERM, which processes still hold the port, and
// offers SIGKILL for exactly those, in a dialog, but only when nothing else
// has the focus: a dialog that opened under the filter prompt would take
// the next key typed there as its answer.
func (m *Model) killCheck(msg killCheckMsg) {
	held := stillHeld(m.store, msg.key, msg.targets)
	if len(held) == 0 {
		m.setStatus(fmt.Sprintf("%s: %s ended; the port is free of them", msg.socket, statusFor(len(msg.targets), "process")))
		return
	}
	pids := make([]string, len(held))
	for i, p := range held {
		pids[i] = fmt.Sprint(p.PID)
	}
	if m.kill != nil || m.filter.active || m.openView() != nil {
		m.setStatus(fmt.Sprintf("pid %s still hold %s after SIGTERM: select it and press K to force them", strings.Join(pids, ", "), msg.socket))
		return
	}
	m.openKill(&killDialog{key: msg.key, socket: msg.socket, targets: held, master: -1, sig: sigKill})
}

func (m Model) handleKey(msg tea.KeyMsg) (tea.Model, tea.Cmd) {
	// Keys typed faster than a frame (over a slow link, or by tmux
	// send-keys) arrive as one message: "/6379". Take them one by one. Two
	// quick presses of esc arrive as alt+esc: two escs.
	split := msg.Type == tea.KeyRunes && len(msg.Runes) > 1 && !msg.Paste && !m.filter.active
	if split || (msg.Type == tea.KeyEsc && msg.Alt) {
		var keys []tea.KeyMsg
		if split {
			for _, r := range msg.Runes {
				keys = append(keys, tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}, Alt: msg.Alt})
			}
		} else {
			keys = []tea.KeyMsg{{Type: tea.KeyEsc}, {Type: tea.KeyEsc}}
		}
		var cmds []tea.Cmd
		var model tea.Model = m
		for _, k := range keys {
			var cmd tea.Cmd
			model, cmd = model.(Model).handleKey(k)
			cmds = append(cmds, cmd)
		}
		return model, tea.Batch(cmds...)
	}
	if msg.Type == tea.KeyCtrlC {
		return m, tea.Quit
	}
	switch {
	case m.kill != nil: // the dialog has the focus: no other key acts
		return m.killKey(msg)
	case m.saving != nil:
		return m.saveKey(msg)
	case m.filter.active:
		return m.filterKey(msg)
	case m.openView() != nil:
		return m.viewKey(msg)
	}
	return m.tableKey(msg)
}

// tableKey handles a key on the table.
func (m Model) tableKey(msg tea.KeyMsg) (tea.Model, tea.Cmd) {
	if m.tableViewKey(msg) {
		return m, nil
	}
	k := m.keys // read only
	switch {
	case key.Matches(msg, k.Quit):
		return m, tea.Quit
	case key.Matches(msg, k.Up):
		m.table.move(-1)
	case key.Matches(msg, k.Down):
		m.table.move(1)
	case key.Matches(msg, k.PageUp):
		m.table.move(-max(m.table.height-1, 1))
	case key.Matches(msg, k.PageDown):
		m.table.move(max(m.table.height-1, 1))
	case key.Matches(msg, k.Home):
		m.table.move(-m.table.view().Len())
	case key.Matches(msg, k.End):
		m.table.move(m.table.view().Len())
	case key.Matches(msg, k.NextTab):
		m.switchTab((m.table.tab + 1) % rowset.TabCount)
	case key.Matches(msg, k.PrevTab):
		m.switchTab((m.table.tab + rowset.TabCount - 1) % rowset.TabCount)
	case key.Matches(msg, k.Tab1):
		m.switchTab(rowset.Listening)
	case key.Matches(msg, k.Tab2):
		m.switchTab(rowset.Established)
	case key.Matches(msg, k.Tab3):
		m.switchTab(rowset.All)
	case key.Matches(msg, k.LabNext):
		return m, m.goLab(m.lab.step + 1)
	case key.Matches(msg, k.LabBack):
		return m, m.goLab(m.lab.step - 1)
	case key.Matches(msg, k.SaveBaseline):
		m.askSaveBaseline()
	case key.Matches(msg, k.Filter):
		return m, m.filter.focus()
	case key.Matches(msg, k.Back):
		switch {
		case m.table.link != nil:
			m.table.link = nil
			m.refreshRows()
		case m.filter.value() != "":
			m.filter.clear()
			m.refreshRows()
		}
	case key.Matches(msg, k.Conns):
		m.showConnections()
	case key.Matches(msg, k.OtherEnd):
		m.goToOtherEnd()
	case key.Matches(msg, k.Sort):
		col := m.table.cycleSort(m.store.MultiNetns())
		m.refreshRows()
		m.setStatus("sorted by " + col)
		return m, m.sortCmd()
	case key.Matches(msg, k.Reverse):
		m.table.sorts[m.table.tab].reverse = !m.table.sorts[m.table.tab].reverse
		m.refreshRows()
		return m, m.sortCmd()
	case key.Matches(msg, k.Pause):
		m.togglePause()
	case key.Matches(msg, k.Kill), refused(msg, k.Kill): // read-only: K says why it does nothing
		m.askKill()
	case key.Matches(msg, k.Resolve):
		m.resolver.on = !m.resolver.on
		if m.resolver.on {
			m.setStatus("host names on: reverse DNS lookups run in the background")
		} else {
			m.setStatus("host names off")
		}
		return m, m.resolver.want(m.table.view().Rows(), m.cfg.LookupAddr)
	}
	return m, nil
}

// filterKey edits the filter as the user types; enter keeps it, esc clears it.
func (m Model) filterKey(msg tea.KeyMsg) (tea.Model, tea.Cmd) {
	switch msg.Type {
	case tea.KeyEnter:
		m.filter.keep()
		return m, nil
	case tea.KeyEsc:
		m.filter.clear()
		m.refreshRows()
		return m, nil
	}
	var cmd tea.Cmd
	m.filter, cmd = m.filter.update(msg)
	m.refreshRows()
	return m, cmd
}

// killKey answers the kill dialog: y signals every process it names, m
// the master only, anything else cancels.
func (m Model) killKey(msg tea.KeyMsg) (tea.Model, tea.Cmd) {
	d := *m.kill
	targets := d.targets
	switch {
	case key.Matches(msg, m.keys.Confirm):
	case key.Matches(msg, m.keys.Master):
		targets = d.targets[d.master : d.master+1]
	default:
		m.closeKill()
		m.setStatus("cancelled: nothing was sent")
		return m, nil
	}
	m.closeKill()
	return m, signalCmd(m.cfg.Signal, d, targets)
}

// askKill opens the dialog for the selected socket's processes, or says
// why not. After SIGTERM, K on a socket still held offers SIGKILL.
func (m *Model) askKill() {
	if m.cfg.ReadOnly {
		m.setStatus("read-only (--read-only): ending processes is disabled")
		return
	}
	d, why := killDialogFor(m.table.current(), m.cfg.SelfPID)
	if d == nil {
		if why != "" {
			m.setStatus(why)
		}
		return
	}
	if m.termed.key == d.key {
		if held := stillHeld(m.store, d.key, m.termed.targets); len(held) > 0 {
			d.targets, d.master, d.sig = held, -1, sigKill
		}
	}
	m.openKill(d)
}

func (m *Model) openKill(d *killDialog) {
	m.kill = d
	m.setKeys(func(k *keyMap) {
		k.Confirm.SetEnabled(true)
		k.Master.SetEnabled(d.master >= 0)
		k.Cancel.SetEnabled(true)
	})
}

func (m *Model) closeKill() {
	m.kill = nil
	m.setKeys(func(k *keyMap) {
		k.Confirm.SetEnabled(false)
		k.Master.SetEnabled(false)
		k.Cancel.SetEnabled(false)
	})
}

func (m *Model) switchTab(t rowset.Tab) {
	m.table.switchTab(t, m.store, m.filter.needle())
	m.relayout()
}

func (m *Model) mouse(msg tea.MouseMsg) {
	if msg.Action != tea.MouseActionPress {
		return
	}
	step := 0
	switch msg.Button {
	case tea.MouseButtonWheelUp:
		step = -3
	case tea.MouseButtonWheelDown:
		step = 3
	default:
		return
	}
	if m.openView() != nil {
		m.scrollView(step)
	} else {
		m.table.move(step)
	}
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

// statusFor is a count of rows with its noun: "1 row", "3 rows".
func statusFor(n int, noun string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", noun)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
