package tui

import (
	"time"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/viewport"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/assess"
	"github.com/portwatch/portwatch/sockets/baseline"
	"github.com/portwatch/portwatch/sockets/events"
	"github.com/portwatch/portwatch/tui/rowset"
)

// Model is the root model. It owns the state the components share and
// composes them: header, tab bar, table, detail pane (or kill dialog),
// status line and help, or a full-screen view in place of the table.
//
// Copies of a Model share the store of tracked sockets, which only a poll
// changes (store.Apply in Update); everything a key changes (tab, sort,
// filter, selection, dialog) lives in the copy itself.
type Model struct {
	cfg  Config
	keys *keyMap // replaced by setKeys, never changed in place: copies share it
	// The theme and the help never change once built, and are the largest
	// parts of the model: behind pointers, the copy of the model every
	// message returns (a tea.Model) is a few kilobytes, not 23.
	theme *Theme
	help  *help.Model // replaced, never changed in place: copies share it

	table  tableModel
	filter filterBar
	// The full-screen view on screen (an index into views, or noView) and
	// its viewport. One viewport serves them all: a view opens at its top,
	// so no view's scroll outlives it. (A viewport per view would be a
	// slice, shared between copies of the Model; an array sized by the
	// registry is a declaration cycle.)
	open   int
	pane   viewport.Model
	kill   *killDialog  // a kill awaiting y/n; the dialog has the focus
	saving *saveDialog  // a baseline save awaiting y/n
	termed killCheckMsg // the last SIGTERM sent: K on its socket offers SIGKILL

	width, height int
	now           time.Time

	store      *rowset.Store
	poller     *poller // the poll command's state, never touched by Update
	snap       *sockets.Snapshot
	assessment *assess.Assessment
	surface    surfaceCounts      // the assessment's listeners counted by what the firewall says
	laidOut    int                // the chrome's height when relayout last sized the content
	baseline   *baseline.Baseline // listeners are compared with it; nil for none
	events     []events.Event     // newest first, at most maxEvents
	logErr     error              // the last --log write failed

	seq      int
	polling  bool
	paused   bool
	pollErr  error
	lastGood time.Time

	status   string // a transient message
	statusAt time.Time

	resolver resolver
	lab      labState // portwatch lab's step and narration

	// scratch is Update's working memory between messages (shared by
	// copies, which never use it at once: one goroutine runs Update).
	scratch *scratch
	// frame is the last frame drawn (shared by copies); shows numbers
	// what this copy shows, a new number for every change (frame.go).
	frame *frameMemo
	shows uint64
}

// New builds the monitor's model.
func New(cfg Config) Model {
	cfg.setDefaults()
	m := Model{
		cfg:      cfg,
		keys:     ptrTo(newKeyMap()),
		theme:    ptrTo(NewTheme(cfg.Color)),
		help:     ptrTo(help.New()),
		table:    newTable(),
		filter:   newFilterBar(),
		open:     noView,
		pane:     viewport.New(0, 0),
		now:      cfg.Now(),
		store:    rowset.NewStore(),
		poller:   newPoller(cfg),
		baseline: cfg.Baseline,
		resolver: newResolver(cfg.Resolve),
		frame:    newFrameMemo(),
		scratch:  &scratch{},
	}
	m.help.ShortSeparator = "  "
	m.lab.step = -1
	m.keys.LabNext.SetEnabled(false)
	m.keys.LabBack.SetEnabled(false)
	if cfg.Lab != nil { // b walks back and space forward in a lab
		m.keys.SaveBaseline.SetEnabled(false)
		m.keys.PageDown.SetKeys("pgdown", "ctrl+f")
		m.keys.LabNext.SetEnabled(true)
		m.keys.LabBack.SetEnabled(true)
	}
	m.keys.Kill.SetEnabled(!cfg.ReadOnly) // the help offers only what the monitor may do
	m.keys.Confirm.SetEnabled(false)
	m.keys.Master.SetEnabled(false)
	m.keys.Cancel.SetEnabled(false)
	return m
}

// scratch is memory Update reuses from message to message; nothing in it
// outlives the message that filled it.
type scratch struct {
	verdicts []*assess.Verdict // a poll's verdicts with its MISSING and published rows
}

// ptrTo is a pointer to a copy of v.
func ptrTo[T any](v T) *T { return &v }

// Init sends the first tick at once: it starts the first poll and arms the
// ticker.
func (m Model) Init() tea.Cmd {
	tick := func() tea.Msg { return tickMsg{} }
	if m.cfg.Lab != nil {
		return tea.Batch(tick, func() tea.Msg { return labStartMsg{} })
	}
	return tick
}

// startPoll is called only from Update (and Init), with no poll in flight.
func (m *Model) startPoll() tea.Cmd {
	m.polling = true
	return m.poller.pollCmd(m.seq, m.baseline)
}

// sortCmd sorts, off the UI goroutine, the tabs whose order the store has
// not kept and are too large to sort while a key waits (nil when none).
func (m *Model) sortCmd() tea.Cmd {
	job := m.store.SortJob(m.table.queries())
	if job == nil {
		return nil
	}
	return func() tea.Msg { return sortedMsg{job()} }
}

// refreshRows takes the current tab's rows from the store again, and sizes
// the table for them (below the table, the pane takes what rows leave).
func (m *Model) refreshRows() {
	m.table.refresh(m.store, m.filter.needle())
	m.relayout()
}

// relayout sizes the components for the terminal and the number of rows,
// and draws the open full-screen view again.
func (m *Model) relayout() {
	m.laidOut = m.chromeHeight()
	l := m.bodyLayout()
	m.table.setSize(l.tableW, max(l.tableH-1, 0))
	m.pane.Width, m.pane.Height = max(m.width, 0), m.contentHeight()
	m.redrawView()
}

// bodyLayout places the table and the detail pane in the content height.
func (m *Model) bodyLayout() layout {
	return layoutFor(m.width, m.contentHeight(), m.table.view().Len())
}

func (m *Model) cells() cellContext {
	c := cellContext{now: m.now}
	if m.resolver.on {
		c.names = m.resolver.names
	}
	return c
}

func (m *Model) detailLook() detailLook {
	look := detailLook{theme: *m.theme, cells: m.cells(), multiNetns: m.store.MultiNetns(), interval: m.cfg.Interval}
	if m.assessment != nil {
		look.socketsOf = m.assessment.SocketsOf
	}
	if m.snap != nil {
		look.published = m.snap.Published
	}
	return look
}

// setKeys changes the key bindings (enabling a dialog's) on a copy of
// them: other copies of the model keep theirs.
func (m *Model) setKeys(change func(*keyMap)) {
	k := *m.keys
	change(&k)
	m.keys = &k
}

func (m *Model) setStatus(s string) {
	m.status, m.statusAt = s, m.now
}
