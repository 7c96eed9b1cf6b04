package rowset

import "github.com/portwatch/portwatch/sockets"

// Tab is one of the monitor's tabs.
type Tab uint8

// The tabs, in the order the monitor shows them.
const (
	Listening Tab = iota
	Established
	All
	TabCount
)

var tabTitles = [TabCount]string{"Listening", "Established", "All states"}

// String is the tab's title.
func (t Tab) String() string {
	if t < TabCount {
		return tabTitles[t]
	}
	return ""
}

// TabOf says which tab lists a socket besides All states: sockets in other
// states are listed there only.
func TabOf(s *sockets.Socket) Tab {
	switch s.Kind() {
	case sockets.KindListening:
		return Listening
	case sockets.KindEstablished:
		return Established
	}
	return All
}

// Shows reports whether tab t lists the row.
func (t Tab) Shows(r *Row) bool { return t == All || r.tab == t }
