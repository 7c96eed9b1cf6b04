package tui

import (
	"slices"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

// keyMap is every binding of the monitor. Bindings that do not apply are
// disabled, so the help hides them.
type keyMap struct {
	Up, Down, PageUp, PageDown, Home, End key.Binding
	NextTab, PrevTab, Tab1, Tab2, Tab3    key.Binding
	Detail, Back, Filter, Sort, Reverse   key.Binding
	Pause, Kill, Resolve, Help, Quit      key.Binding
	Events, SaveBaseline, Conns, OtherEnd key.Binding
	Learn, LabNext, LabBack, Programs     key.Binding
	Profile                               key.Binding
	Confirm, Master, Cancel               key.Binding
}

func newKeyMap() keyMap {
	b := func(help, desc string, keys ...string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(help, desc))
	}
	return keyMap{
		Up:           b("↑/k", "up", "up", "k"),
		Down:         b("↓/j", "down", "down", "j"),
		PageUp:       b("pgup", "page up", "pgup", "ctrl+b"),
		PageDown:     b("pgdn", "page down", "pgdown", "ctrl+f", " "),
		Home:         b("g/home", "first", "home", "g"),
		End:          b("G/end", "last", "end", "G"),
		NextTab:      b("tab", "tabs", "tab", "right", "l"),
		PrevTab:      b("shift+tab", "previous tab", "shift+tab", "left", "h"),
		Tab1:         b("1", "listening", "1"),
		Tab2:         b("2", "established", "2"),
		Tab3:         b("3", "all states", "3"),
		Detail:       b("enter", "details", "enter"),
		Back:         b("esc", "back / clear", "esc"),
		Filter:       b("/", "filter", "/"),
		Sort:         b("s", "sort", "s"),
		Reverse:      b("S", "reverse sort", "S"),
		Pause:        b("p", "pause", "p"),
		Kill:         b("K", "kill", "K"),
		Resolve:      b("r", "host names", "r"),
		Events:       b("e", "events", "e"),
		Learn:        b("L", "learn", "L"),
		Programs:     b("P", "programs", "P"),
		Profile:      b("R", "roles", "R"),
		LabNext:      b("n", "next step", "n", " "),
		LabBack:      b("b", "step back", "b"),
		Conns:        b("c", "connections", "c"),
		OtherEnd:     b("o", "other end", "o"),
		SaveBaseline: b("b", "baseline", "b"),
		Help:         b("?", "help", "?"),
		Quit:         b("q", "quit", "q", "ctrl+c"),
		Confirm:      b("y", "yes", "y", "Y"),
		Master:       b("m", "the master only", "m"),
		Cancel:       b("n/esc", "no", "n", "N", "esc"),
	}
}

// ShortHelp is the footer.
func (k keyMap) ShortHelp() []key.Binding {
	return []key.Binding{k.NextTab, k.Detail, k.Filter, k.Sort, k.Pause, k.Kill, k.Help, k.Quit}
}

// FullHelp is the help screen, by column. The second is the full-screen
// views, from their registry: a column that does not fit the width is left
// out, and these matter more than the last.
func (k keyMap) FullHelp() [][]key.Binding {
	var shown []key.Binding
	for _, v := range views {
		shown = append(shown, *v.binding(&k))
	}
	return [][]key.Binding{
		{k.Up, k.Down, k.PageUp, k.PageDown, k.Home, k.End, k.Conns, k.OtherEnd},
		shown,
		{k.NextTab, k.PrevTab, k.Tab1, k.Tab2, k.Tab3, k.Back, k.Filter},
		{k.Sort, k.Reverse, k.Resolve, k.Pause, k.Kill, k.SaveBaseline, k.LabNext, k.LabBack, k.Quit},
	}
}

// views is every full-screen view (views.go), in the order the help lists
// their keys. A new view is its file and its key: a binding above and its
// line here.
var views = [...]fullScreen{
	detailView{},
	helpView{},
	eventsView{},
	learnView{},
	programsView{},
	profileView{},
}

// refused says msg is a disabled binding's key: a key the help does not
// offer, which may still say why it does nothing.
func refused(msg tea.KeyMsg, b key.Binding) bool {
	return !b.Enabled() && slices.Contains(b.Keys(), msg.String())
}
