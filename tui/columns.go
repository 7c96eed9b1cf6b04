package tui

import (
	"cmp"
	"slices"
	"strconv"
	"time"

	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/assess"
	"github.com/portwatch/portwatch/sockets/baseline"
	"github.com/portwatch/portwatch/sockets/reach"
	"github.com/portwatch/portwatch/tui/rowset"
)

// cellContext is what a cell needs besides its row: the clock (for ages)
// and the host names found so far.
type cellContext struct {
	now   time.Time
	names map[string]string // address -> host name, when names are on; nil when off
}

// column is one column of a tab's table.
type column struct {
	title    string
	width    int  // the natural width
	min      int  // it may shrink to this before columns are dropped
	priority int  // at narrow widths the lowest priority goes first
	right    bool // right-aligned (numbers)
	cell     func(c cellContext, r *rowset.Row) string
	less     func(a, b *rowset.Row) int
}

var (
	colProto = column{title: "PROTO", width: 6, min: 6, priority: 5,
		cell: func(_ cellContext, r *rowset.Row) string { return r.Socket.ProtoLabel() },
		less: func(a, b *rowset.Row) int { return cmp.Compare(a.Socket.ProtoLabel(), b.Socket.ProtoLabel()) }}
	colAddress = column{title: "ADDRESS", width: 15, min: 9, priority: 8,
		cell: func(_ cellContext, r *rowset.Row) string { return listenAddress(&r.Socket) },
		less: func(a, b *rowset.Row) int { return a.Socket.Local.Compare(b.Socket.Local) }}
	colPort = column{title: "PORT", width: 5, min: 5, priority: 10, right: true,
		cell: func(_ cellContext, r *rowset.Row) string { return strconv.Itoa(int(r.Socket.LPort)) },
		less: func(a, b *rowset.Row) int { return cmp.Compare(a.Socket.LPort, b.Socket.LPort) }}
	// The registry's name with the exam's beside it: "domain (DNS)".
	colService = column{title: "SERVICE", width: 16, min: 8, priority: 9,
		cell: func(_ cellContext, r *rowset.Row) string { return assess.ServiceLabel(r.Service.Name) },
		less: func(a, b *rowset.Row) int { return cmp.Compare(a.Service.Name, b.Service.Name) }}
	colProcess = column{title: "PROCESS", width: 15, min: 8, priority: 8,
		cell: processCell,
		less: func(a, b *rowset.Row) int { return cmp.Compare(a.Socket.OwnerName(), b.Socket.OwnerName()) }}
	colPID = column{title: "PID", width: 7, min: 7, priority: 6, right: true,
		cell: pidCell,
		less: func(a, b *rowset.Row) int { return cmp.Compare(a.Socket.PID(), b.Socket.PID()) }}
	colUser = column{title: "USER", width: 9, min: 6, priority: 4,
		cell: func(_ cellContext, r *rowset.Row) string { return r.Socket.OwnerUser() },
		less: func(a, b *rowset.Row) int { return cmp.Compare(a.Socket.OwnerUser(), b.Socket.OwnerUser()) }}
	// Exposure is the bind address's reach and, where the firewall was
	// read, what it does to outside connections: all/open, all/filtered.
	colExposure = column{title: "EXPOSED", width: 8, min: 8, priority: 7,
		cell: func(_ cellContext, r *rowset.Row) string { return exposureCell(r) },
		less: func(a, b *rowset.Row) int { return cmp.Compare(exposureCell(a), exposureCell(b)) }}
	// Risk sorts by severity, worst first: that is what a sort by risk is for.
	colRisk = column{title: "RISK", width: 6, min: 6, priority: 9,
		cell: func(_ cellContext, r *rowset.Row) string { return r.Risk.String() },
		less: func(a, b *rowset.Row) int { return cmp.Compare(b.Risk, a.Risk) }}
	colConns = column{title: "CONNS", width: 6, min: 6, priority: 3, right: true,
		cell: func(_ cellContext, r *rowset.Row) string { return strconv.Itoa(int(r.Conns)) },
		less: func(a, b *rowset.Row) int { return cmp.Compare(a.Conns, b.Conns) }}
	colLocal = column{title: "LOCAL", width: 21, min: 21, priority: 10, // our own address:port, kept longest: the analyst starts from it
		cell: func(_ cellContext, r *rowset.Row) string { return r.Socket.LocalEndpoint() },
		less: func(a, b *rowset.Row) int {
			return cmp.Or(a.Socket.Local.Compare(b.Socket.Local), cmp.Compare(a.Socket.LPort, b.Socket.LPort))
		}}
	colRemote = column{title: "REMOTE", width: 24, min: 21, priority: 9,
		cell: remoteCell,
		less: func(a, b *rowset.Row) int {
			return cmp.Or(a.Socket.Remote.Compare(b.Socket.Remote), cmp.Compare(a.Socket.RPort, b.Socket.RPort))
		}}
	colDir = column{title: "DIR", width: 4, min: 4, priority: 7,
		cell: func(_ cellContext, r *rowset.Row) string { return r.Socket.Direction.String() },
		less: func(a, b *rowset.Row) int { return cmp.Compare(a.Socket.Direction, b.Socket.Direction) }}
	colState = column{title: "STATE", width: 11, min: 11, priority: 10,
		cell: func(_ cellContext, r *rowset.Row) string { return r.Socket.State },
		less: func(a, b *rowset.Row) int {
			return cmp.Compare(stateOrder(a.Socket.State), stateOrder(b.Socket.State))
		}}
	// The baseline's word: loud when it matters, "ok" when expected.
	colBaseline = column{title: "BASELINE", width: 10, min: 10, priority: 9,
		cell: func(_ cellContext, r *rowset.Row) string { return baselineWord(r.Baseline.Status) },
		less: func(a, b *rowset.Row) int { return cmp.Compare(baselineRank(a), baselineRank(b)) }}
	colNetns = column{title: "NETNS", width: 12, min: 5, priority: 7, // "host", "lab": 5 keeps PID and all/filtered at 80 columns
		cell: func(_ cellContext, r *rowset.Row) string { return r.Socket.Netns },
		less: func(a, b *rowset.Row) int { return cmp.Compare(a.Socket.Netns, b.Socket.Netns) }}
	// Age sorts youngest first.
	colAge = column{title: "AGE", width: 5, min: 4, priority: 4, right: true,
		cell: func(c cellContext, r *rowset.Row) string { return shortDuration(c.now.Sub(r.FirstSeen())) },
		less: func(a, b *rowset.Row) int { return b.FirstSeen().Compare(a.FirstSeen()) }}
)

// defaultSort is each tab's first sort column: port for listeners, remote
// end for connections, the state for the learners' tab.
var defaultSort = [rowset.TabCount]string{rowset.Listening: "PORT", rowset.Established: "REMOTE", rowset.All: "STATE"}

// tabColumns are each tab's columns, left to right.
var tabColumns = [rowset.TabCount][]column{
	rowset.Listening:   {colPort, colProto, colAddress, colService, colProcess, colPID, colUser, colExposure, colRisk, colConns, colRate},
	rowset.Established: {colProto, colLocal, colRemote, colDir, colService, colProcess, colPID, colRateIn, colRateOut, colRisk, colAge},
	rowset.All:         {colProto, colState, colLocal, colRemote, colDir, colService, colProcess, colPID, colAge},
}

// columnsOf is a tab's columns; with sockets of several network
// namespaces, where each lives comes first, with a baseline the Listening
// tab says how each listener stands against it, and without the kernel's
// counters (sockets read from /proc/net) there are no rates to show.
func columnsOf(t rowset.Tab, multiNetns, withBaseline, withFirewall, withTraffic bool) []column {
	cols := tabColumns[t]
	if !withTraffic {
		cols = slices.DeleteFunc(slices.Clone(cols), func(c column) bool { return trafficColumns[c.title] })
	}
	if withFirewall { // room for "all/filtered", never cut: the word after the slash is the verdict
		cols = slices.Clone(cols)
		for i := range cols {
			if cols[i].title == colExposure.title {
				cols[i].width, cols[i].min = 12, 12
			}
		}
	}
	if withBaseline && t == rowset.Listening {
		cols = append(cols[:len(cols):len(cols)], colBaseline)
	}
	if multiNetns {
		return append([]column{colNetns}, cols...)
	}
	return cols
}

func baselineWord(s baseline.Status) string {
	if s == baseline.Expected {
		return "ok"
	}
	return s.String()
}

// baselineRank puts what the baseline flags first: UNEXPECTED, CHANGED,
// MISSING, then the rest.
func baselineRank(r *rowset.Row) int {
	switch r.Baseline.Status {
	case baseline.Unexpected:
		return 0
	case baseline.Changed:
		return 1
	case baseline.Missing:
		return 2
	}
	return 3
}

// stateOrder sorts states in the order a connection meets them.
func stateOrder(state string) int {
	if i, ok := stateRank[state]; ok {
		return i
	}
	return len(stateRank)
}

// stateRank is each state's place in the TCP state order: a sort of 60,000
// rows asks a million times.
var stateRank = func() map[string]int {
	r := make(map[string]int, len(assess.TCPStates))
	for i, s := range assess.TCPStates {
		r[s] = i
	}
	return r
}()

func processCell(_ cellContext, r *rowset.Row) string {
	if r.Published != nil { // no process: a DNAT rule (the Listening tab has no STATE column)
		return sockets.StatePublished
	}
	name := r.Socket.OwnerName()
	if n := len(r.Socket.Owners); n > 1 {
		name += " +" + strconv.Itoa(n-1)
	}
	return name
}

func pidCell(_ cellContext, r *rowset.Row) string {
	if p := r.Socket.PID(); p != 0 {
		return strconv.Itoa(int(p))
	}
	return "-"
}

func remoteCell(c cellContext, r *rowset.Row) string {
	if name := c.names[r.Socket.Remote.String()]; name != "" {
		return name + ":" + strconv.Itoa(int(r.Socket.RPort))
	}
	return r.Socket.RemoteEndpoint()
}

// listenAddress shows a dual-stack wildcard as "*", as ss does.
func listenAddress(s *sockets.Socket) string {
	if s.DualStack {
		return "*"
	}
	return s.Local.String()
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

// exposureCell is "all", "loopback" or "address", with the firewall's
// verdict after a slash where one was read: "all/filtered", "all/restr",
// "all/?" (unknown).
func exposureCell(r *rowset.Row) string {
	e := r.Socket.Exposure().Short()
	switch k := r.FirewallKind(); k {
	case "":
		return e
	case reach.Restricted:
		return e + "/restr"
	case reach.Unknown:
		return e + "/?"
	default:
		return e + "/" + string(k)
	}
}
