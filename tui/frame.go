package tui

// frameMemo is the last frame View drew and the state it drew it from.
// bubbletea asks for a frame after every message; a message that changed
// nothing shown (the tick that starts a poll: the reply moves the clock a
// moment later) leaves the model's number as it was, and its frame is the
// last one, handed back without drawing it again.
//
// Copies of the model share the memo (as they share the store), and every
// Update that may change what is shown takes a number no copy has held, so
// a copy is never handed a frame drawn from another copy's state. View
// stays a function of the model: the memo only saves drawing it twice.
type frameMemo struct {
	issued uint64 // the last number handed out
	drawn  uint64 // the number of the model the frame was drawn from; 0 for none
	text   string
}

func newFrameMemo() *frameMemo { return &frameMemo{issued: 1} }

// next is a number no copy of the model has held.
func (f *frameMemo) next() uint64 {
	f.issued++
	return f.issued
}

// View renders the screen within the terminal's size. It changes nothing
// (but the memo of the last frame).
func (m Model) View() string {
	if m.frame == nil { // a model not made by New
		return m.draw()
	}
	if m.frame.drawn == m.shows && m.shows != 0 {
		return m.frame.text
	}
	text := m.draw()
	m.frame.drawn, m.frame.text = m.shows, text
	return text
}
