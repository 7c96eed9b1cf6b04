package tui

import (
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

// fullScreen is a view that takes the screen between the header and the
// tab bar (and a lab's narration) and the status line: the full details,
// the help, the events, learn, the programs. It scrolls, opens from the
// table with its key and closes with the same key or esc.
//
// Each is registered once, in views (keys.go): the model keeps which one is
// open and its viewport, and Update and View reach them only through the
// registry, so a new view is a file and its key.
type fullScreen interface {
	// binding is its key in the keymap, where the help finds it: it
	// opens the view from the table and closes it.
	binding(k *keyMap) *key.Binding
	// applies says whether the view has something to show now: the
	// details need a selected row. An open view that no longer applies
	// closes.
	applies(m *Model) bool
	// text is what it shows, for the width; the viewport scrolls it.
	text(m *Model, width int) string
	// follows is what else than the size or the rows on the table changes
	// its text while it is open (each of those draws every view again).
	follows() change
}

// change is what a poll changed, for the open view to be drawn again when
// it follows it.
type change uint8

const (
	everyPoll  change = 1 << iota // every poll, even one that changed nothing: ages, the selected row
	bytesMoved                    // a poll in which traffic moved: the rates
	newEvents                     // a poll with events
	scansSeen                     // a poll whose assessment holds a scan, or the one after the last
)

// noView is Model.open while the table is on screen.
const noView = -1

// openView is the view on screen, nil for the table.
func (m *Model) openView() fullScreen {
	if m.open == noView {
		return nil
	}
	return views[m.open]
}

// contentHeight is the screen's height less the chrome and a lab's
// narration: the one measure of what the table with its pane, or a
// full-screen view, may take. relayout sizes with it and View cuts with
// it, so the two never disagree.
func (m *Model) contentHeight() int {
	return max(m.height-m.chromeHeight()-len(m.narrationLines()), 0)
}

// chromeHeight is the lines around the content: the header (two lines,
// and the warnings), the tab bar, the status line (two for a dialog's
// question) and the footer.
func (m *Model) chromeHeight() int {
	return m.headerHeight() + 1 + m.statusHeight() + 1
}

// openAt shows view i, at its top, when it has something to show.
func (m *Model) openAt(i int) {
	if !views[i].applies(m) {
		return
	}
	m.open = i
	m.pane.GotoTop()
	m.relayout()
}

func (m *Model) closeView() {
	m.open = noView
	m.relayout()
}

// redrawView fills the open view's viewport again, or closes the view when
// it no longer applies.
func (m *Model) redrawView() {
	v := m.openView()
	if v == nil {
		return
	}
	// The views read a copy: handed to an interface's method, the model
	// itself would escape, and every message would copy it to the heap
	// (redrawView is on the path of every poll), not only those that
	// draw a view.
	c := *m
	if !v.applies(&c) {
		m.open = noView
		return
	}
	m.pane.SetContent(v.text(&c, m.width))
	// The viewport keeps its offset when the content or the screen
	// changes, and only goes back when it is past the last line: a view
	// scrolled to its end on a short screen, then made taller, showed its
	// last lines at the top and blank lines under them, its first lines
	// (the title) out of reach above. Clamped, the end stays at the bottom.
	m.pane.SetYOffset(m.pane.YOffset)
}

// redrawOn draws the open view again when it follows what c says changed.
func (m *Model) redrawOn(c change) {
	if v := m.openView(); v != nil && v.follows()&c != 0 {
		m.redrawView()
	}
}

// tableViewKey opens the view whose key msg is, and says whether it was one.
func (m *Model) tableViewKey(msg tea.KeyMsg) bool {
	for i, v := range views {
		if key.Matches(msg, *v.binding(m.keys)) {
			m.openAt(i)
			return true
		}
	}
	return false
}

// viewKey handles a key in the open view: its key or esc closes it, g and
// G go to its top and bottom, and the viewport scrolls with the rest.
func (m Model) viewKey(msg tea.KeyMsg) (tea.Model, tea.Cmd) {
	k, pane := m.keys, &m.pane
	switch {
	case key.Matches(msg, k.Back), key.Matches(msg, *views[m.open].binding(k)):
		m.closeView()
	case key.Matches(msg, k.Quit):
		return m, tea.Quit
	case key.Matches(msg, k.Home): // the viewport has no keys for its ends
		pane.GotoTop()
	case key.Matches(msg, k.End):
		pane.GotoBottom()
	default:
		var cmd tea.Cmd
		*pane, cmd = pane.Update(msg)
		return m, cmd
	}
	return m, nil
}

// scrollView moves the open view by n lines, down when n > 0.
func (m *Model) scrollView(n int) {
	if n < 0 {
		m.pane.ScrollUp(-n)
	} else {
		m.pane.ScrollDown(n)
	}
}

// viewOpen is the open view's lines, exactly the content height.
func (m *Model) viewOpen() []string {
	return fitLines(strings.Split(m.pane.View(), "\n"), m.width, m.contentHeight())
}
