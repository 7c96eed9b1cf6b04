package tui

import (
	"time"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/textinput"
	"github.com/charmbracelet/bubbles/viewport"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/portwatch/portwatch/sockets"
)

// tab is one of the monitor's tabs.
type tab uint8

const (
	tabListening tab = iota
	tabEstablished
	tabAll
	tabCount
)

var tabTitles = [tabCount]string{"Listening", "Established", "All states"}

// mode is what the screen shows besides the table.
type mode int

const (
	modeTable  mode = iota
	modeDetail      // the detail pane full screen
	modeHelp        // the full help
)

// markFor is how long a new row stays marked "+" and a closed one "-".
const markFor = 5 * time.Second

// tracked is a socket as the monitor follows it across polls. There is one
// per socket, 60,000 on a busy server: it is kept small.
type tracked struct {
	*entry
	firstSeen stamp
	goneAt    stamp  // when it closed; zero while open
	gen       uint32 // the last poll that listed it
	isNew     bool   // appeared after the first snapshot
	dropped   bool   // no longer in the model's map
	picked    bool   // chosen for the rows being built
}

func (t *tracked) added(now time.Time) bool {
	return t.isNew && t.goneAt == 0 && now.Sub(t.firstSeen.Time()) < markFor
}

func (t *tracked) removed() bool { return t.goneAt != 0 }

// show makes the row show e, and e know its row.
func (t *tracked) show(e *entry) {
	t.entry, e.row = e, t
}

// stamp is a moment in Unix nanoseconds, zero for none: a third of the size
// of a time.Time, and without a pointer for the collector to follow.
type stamp int64

func stampOf(t time.Time) stamp { return stamp(t.UnixNano()) }

// Time is the stamp as a time.Time.
func (s stamp) Time() time.Time { return time.Unix(0, int64(s)) }

// sortState is a tab's sort column (an index into its columns) and order.
type sortState struct {
	col     int
	reverse bool
}

// Model is the root model. It owns the shared state and composes the views:
// header, tab bar, table, detail pane, status line and help.
type Model struct {
	cfg   Config
	keys  keyMap
	theme Theme
	help  help.Model

	filter    textinput.Model
	filtering bool // the filter input has focus
	pane      viewport.Model
	mode      mode

	width, height int
	now           time.Time

	tab      tab
	sorts    [tabCount]sortState
	selected [tabCount]sockets.SocketKey // the selected socket's key, per tab
	cursor   int                         // index of the selected row in rows
	offset   int                         // first visible row
	rows     []*tracked                  // the current tab's rows, filtered and sorted
	picked   []*tracked                  // scratch for building rows
	counts   [tabCount]int

	entries map[sockets.SocketKey]*tracked
	gen     uint32 // polls applied
	ghosts  int    // closed rows still shown
	// skippedRebuilds counts polls that changed no row (for tests).
	skippedRebuilds int
	// multiNetns: sockets of more than one network namespace are shown.
	multiNetns bool
	describer  *describer // the poll command's cache, never touched by Update
	snap       *sockets.Snapshot
	analysis   *sockets.Analysis

	seq      int
	polling  bool
	paused   bool
	pollErr  error
	lastGood time.Time

	confirm  *killTarget // a kill awaiting y/n
	status   string      // a transient message
	statusAt time.Time

	resolve  bool
	names    map[string]string // address -> host name ("" = none)
	pending  map[string]bool
	queue    []string
	inflight int
}

// New builds the monitor's model.
func New(cfg Config) Model {
	cfg.setDefaults()
	ti := textinput.New()
	ti.Prompt = "/"
	ti.Placeholder = "port, address, process, service, user"
	ti.CharLimit = 64
	m := Model{
		cfg:       cfg,
		keys:      newKeyMap(),
		theme:     NewTheme(cfg.Color),
		help:      help.New(),
		filter:    ti,
		pane:      viewport.New(0, 0),
		now:       cfg.Now(),
		entries:   map[sockets.SocketKey]*tracked{},
		describer: newDescriber(),
		resolve:   cfg.Resolve,
		names:     map[string]string{},
		pending:   map[string]bool{},
	}
	m.help.ShortSeparator = "  "
	for t := range m.sorts {
		m.sorts[t].col = defaultSort[t]
	}
	m.keys.Kill.SetEnabled(!cfg.ReadOnly)
	m.keys.Confirm.SetEnabled(false)
	m.keys.Cancel.SetEnabled(false)
	return m
}

// Init sends the first tick at once: it starts the first poll and arms the
// ticker.
func (m Model) Init() tea.Cmd {
	return func() tea.Msg { return tickMsg{} }
}

// startPoll is called only from Update (and Init), with no poll in flight.
func (m *Model) startPoll() tea.Cmd {
	m.polling = true
	return pollCmd(m.cfg.Source, m.describer, m.cfg.Knowledge, m.seq, pollTimeout(m.cfg.Interval), m.cfg.Now)
}

// pollTimeout bounds a poll: a stuck /proc read must not hold polling forever.
func pollTimeout(interval time.Duration) time.Duration {
	return max(10*interval, 10*time.Second)
}
