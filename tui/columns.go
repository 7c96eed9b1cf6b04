package tui

import (
	"cmp"
	"strconv"
	"time"

	"github.com/portwatch/portwatch/sockets"
)

// column is one column of a tab's table.
type column struct {
	title    string
	width    int  // the natural width
	min      int  // it may shrink to this before columns are dropped
	priority int  // at narrow widths the lowest priority goes first
	right    bool // right-aligned (numbers)
	cell     func(m *Model, t *tracked) string
	less     func(a, b *tracked) int // nil: not a sort column
}

var (
	colProto = column{title: "PROTO", width: 6, min: 6, priority: 5,
		cell: func(_ *Model, t *tracked) string { return t.sock.ProtoLabel() },
		less: func(a, b *tracked) int { return cmp.Compare(a.sock.ProtoLabel(), b.sock.ProtoLabel()) }}
	colAddress = column{title: "ADDRESS", width: 15, min: 9, priority: 8,
		cell: func(_ *Model, t *tracked) string { return listenAddress(&t.sock) },
		less: func(a, b *tracked) int { return a.sock.Local.Compare(b.sock.Local) }}
	colPort = column{title: "PORT", width: 5, min: 5, priority: 10, right: true,
		cell: func(_ *Model, t *tracked) string { return strconv.Itoa(int(t.sock.LPort)) },
		less: func(a, b *tracked) int { return cmp.Compare(a.sock.LPort, b.sock.LPort) }}
	colService = column{title: "SERVICE", width: 14, min: 8, priority: 9,
		cell: func(_ *Model, t *tracked) string { return t.info.Name },
		less: func(a, b *tracked) int { return cmp.Compare(a.info.Name, b.info.Name) }}
	colProcess = column{title: "PROCESS", width: 15, min: 8, priority: 8,
		cell: processCell,
		less: func(a, b *tracked) int { return cmp.Compare(a.sock.OwnerName(), b.sock.OwnerName()) }}
	colPID = column{title: "PID", width: 7, min: 7, priority: 6, right: true,
		cell: pidCell,
		less: func(a, b *tracked) int { return cmp.Compare(a.sock.PID(), b.sock.PID()) }}
	colUser = column{title: "USER", width: 9, min: 6, priority: 4,
		cell: func(_ *Model, t *tracked) string { return t.sock.OwnerUser() },
		less: func(a, b *tracked) int { return cmp.Compare(a.sock.OwnerUser(), b.sock.OwnerUser()) }}
	colExposure = column{title: "EXPOSED", width: 8, min: 7, priority: 7,
		cell: func(_ *Model, t *tracked) string { return exposureWord(&t.sock) },
		less: func(a, b *tracked) int { return cmp.Compare(exposureWord(&a.sock), exposureWord(&b.sock)) }}
	colRisk = column{title: "RISK", width: 6, min: 6, priority: 9,
		cell: func(_ *Model, t *tracked) string { return t.risk.String() },
		less: func(a, b *tracked) int { return cmp.Compare(a.risk, b.risk) }}
	colConns = column{title: "CONNS", width: 5, min: 5, priority: 3, right: true,
		cell: func(_ *Model, t *tracked) string { return strconv.Itoa(int(t.conns)) },
		less: func(a, b *tracked) int { return cmp.Compare(a.conns, b.conns) }}
	colLocal = column{title: "LOCAL", width: 21, min: 21, priority: 8,
		cell: func(_ *Model, t *tracked) string { return t.sock.LocalEndpoint() },
		less: func(a, b *tracked) int {
			return cmp.Or(a.sock.Local.Compare(b.sock.Local), cmp.Compare(a.sock.LPort, b.sock.LPort))
		}}
	colRemote = column{title: "REMOTE", width: 24, min: 21, priority: 9,
		cell: remoteCell,
		less: func(a, b *tracked) int {
			return cmp.Or(a.sock.Remote.Compare(b.sock.Remote), cmp.Compare(a.sock.RPort, b.sock.RPort))
		}}
	colDir = column{title: "DIR", width: 4, min: 4, priority: 7,
		cell: func(_ *Model, t *tracked) string { return t.sock.Direction.String() },
		less: func(a, b *tracked) int { return cmp.Compare(a.sock.Direction, b.sock.Direction) }}
	colState = column{title: "STATE", width: 11, min: 11, priority: 10,
		cell: func(_ *Model, t *tracked) string { return t.sock.State },
		less: func(a, b *tracked) int { return cmp.Compare(stateOrder(a.sock.State), stateOrder(b.sock.State)) }}
	colNetns = column{title: "NETNS", width: 12, min: 6, priority: 7,
		cell: func(_ *Model, t *tracked) string { return t.sock.Netns },
		less: func(a, b *tracked) int { return cmp.Compare(a.sock.Netns, b.sock.Netns) }}
	colAge = column{title: "AGE", width: 5, min: 4, priority: 4, right: true,
		cell: func(m *Model, t *tracked) string { return shortDuration(m.now.Sub(t.firstSeen.Time())) },
		less: func(a, b *tracked) int { return cmp.Compare(b.firstSeen, a.firstSeen) }}
)

// defaultSort is each tab's first sort column: port for listeners, remote
// end for connections, the state for the learners' tab.
var defaultSort = [tabCount]int{tabListening: 0, tabEstablished: 2, tabAll: 1}

// tabColumns are each tab's columns, left to right.
var tabColumns = [tabCount][]column{
	tabListening:   {colPort, colProto, colAddress, colService, colProcess, colPID, colUser, colExposure, colRisk, colConns},
	tabEstablished: {colProto, colLocal, colRemote, colDir, colService, colProcess, colPID, colRisk, colAge},
	tabAll:         {colProto, colState, colLocal, colRemote, colDir, colService, colProcess, colPID, colAge},
}

// stateOrder sorts states in the order a connection meets them.
func stateOrder(state string) int {
	if i, ok := stateRank[state]; ok {
		return i
	}
	return len(sockets.TCPStates)
}

// stateRank is each state's place in sockets.TCPStates: a sort of 60,000
// rows asks a million times.
var stateRank = func() map[string]int {
	r := make(map[string]int, len(sockets.TCPStates))
	for i, s := range sockets.TCPStates {
		r[s] = i
	}
	return r
}()

func processCell(_ *Model, t *tracked) string {
	name := t.sock.OwnerName()
	if n := len(t.sock.Owners); n > 1 {
		name += " +" + strconv.Itoa(n-1)
	}
	return name
}

func pidCell(_ *Model, t *tracked) string {
	if p := t.sock.PID(); p != 0 {
		return strconv.Itoa(int(p))
	}
	return "-"
}

func remoteCell(m *Model, t *tracked) string {
	if m.resolve {
		if name := m.names[t.sock.Remote.String()]; name != "" {
			return name + ":" + strconv.Itoa(int(t.sock.RPort))
		}
	}
	return t.sock.RemoteEndpoint()
}

// listenAddress shows a dual-stack wildcard as "*", as ss does.
func listenAddress(s *sockets.Socket) string {
	if s.DualStack {
		return "*"
	}
	return s.Local.String()
}

func exposureWord(s *sockets.Socket) string {
	switch s.Exposure() {
	case sockets.ExposureAll:
		return "all"
	case sockets.ExposureLoopback:
		return "loopback"
	}
	return "address"
}

// shortDuration is "42s", "5m", "3h", "2d".
func shortDuration(d time.Duration) string {
	switch {
	case d < 0:
		return "0s"
	case d < time.Minute:
		return strconv.Itoa(int(d/time.Second)) + "s"
	case d < time.Hour:
		return strconv.Itoa(int(d/time.Minute)) + "m"
	case d < 48*time.Hour:
		return strconv.Itoa(int(d/time.Hour)) + "h"
	}
	return strconv.Itoa(int(d/(24*time.Hour))) + "d"
}

// optionalBelow: columns with a lower priority are dropped before any
// column is squeezed below its natural width.
const optionalBelow = 5

// fitColumns chooses the columns and their widths for a table of the given
// width (gutter excluded): drop the optional columns, lowest priority first,
// while the natural widths do not fit; then shrink the widest columns
// toward their minimum; then drop more columns by priority; spare room goes
// to the free-text columns.
func fitColumns(cols []column, width int) ([]column, []int) {
	keep := make([]bool, len(cols))
	for i := range keep {
		keep[i] = true
	}
	for {
		total, n, drop := 0, 0, -1
		for i, c := range cols {
			if !keep[i] {
				continue
			}
			total += c.width
			n++
			if c.priority < optionalBelow && (drop < 0 || c.priority < cols[drop].priority) {
				drop = i
			}
		}
		if total+max(n-1, 0) <= width || drop < 0 {
			break
		}
		keep[drop] = false
	}
	for {
		total, minTotal, n := 0, 0, 0
		for i, c := range cols {
			if keep[i] {
				total += c.width
				minTotal += c.min
				n++
			}
		}
		sep := max(n-1, 0)
		if minTotal+sep <= width || n <= 1 {
			return shrink(cols, keep, width-sep)
		}
		drop := -1
		for i, c := range cols {
			if keep[i] && (drop < 0 || c.priority < cols[drop].priority) {
				drop = i
			}
		}
		keep[drop] = false
	}
}

func shrink(cols []column, keep []bool, room int) ([]column, []int) {
	var out []column
	var widths []int
	total := 0
	for i, c := range cols {
		if keep[i] {
			out = append(out, c)
			widths = append(widths, c.width)
			total += c.width
		}
	}
	// Take one cell at a time from the column with the most to give.
	for total > room {
		best := -1
		for i, c := range out {
			if widths[i] > c.min && (best < 0 || widths[i]-c.min > widths[best]-out[best].min) {
				best = i
			}
		}
		if best < 0 {
			break
		}
		widths[best]--
		total--
	}
	// Spare room goes to the columns that hold free text, in turn.
	for total < room && len(out) > 0 {
		grew := false
		for i, c := range out {
			if total < room && c.width >= 14 {
				widths[i]++
				total++
				grew = true
			}
		}
		if !grew {
			widths[len(widths)-1] += room - total
			total = room
		}
	}
	return out, widths
}
