package tui

import (
	"strings"

	"github.com/charmbracelet/bubbles/cursor"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
)

// filterBar is the filter component: a text input that has the focus while
// the user types, and the text it keeps after enter. The input (5 KB) is
// behind a pointer, replaced by each change and never changed in place, so
// that copies of the model share it and the copy of the model each message
// returns stays small.
type filterBar struct {
	input  *textinput.Model
	active bool // it has the focus
}

func newFilterBar() filterBar {
	ti := textinput.New()
	ti.Prompt = "/"
	ti.Placeholder = "port, address, process, service, user, risk, path"
	ti.CharLimit = 64
	// A steady cursor: a blinking one wakes the program twice a second,
	// over SSH too, for nothing.
	ti.Cursor.SetMode(cursor.CursorStatic)
	return filterBar{input: &ti}
}

// needle is the text rows must hold, in lower case; "" for no filter.
func (f *filterBar) needle() string { return strings.ToLower(strings.TrimSpace(f.input.Value())) }

// value is the filter as typed.
func (f *filterBar) value() string { return f.input.Value() }

func (f *filterBar) focus() tea.Cmd {
	f.active = true
	in := *f.input
	cmd := in.Focus()
	f.input = &in
	return cmd
}

// keep ends typing and keeps the filter.
func (f *filterBar) keep() {
	f.active = false
	in := *f.input
	in.Blur()
	f.input = &in
}

// set puts text in the filter (a lab step's).
func (f *filterBar) set(text string) {
	in := *f.input
	in.SetValue(text)
	f.input = &in
}

// clear ends typing and drops the filter.
func (f *filterBar) clear() {
	f.keep()
	f.input.SetValue("") // f.input is keep's own copy
}

// update passes a key to the input while it has the focus.
func (f filterBar) update(msg tea.Msg) (filterBar, tea.Cmd) {
	in, cmd := f.input.Update(msg)
	f.input = &in
	return f, cmd
}

func (f *filterBar) view() string { return f.input.View() }
