package tui

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/portwatch/portwatch/tui/rowset"
)

// programsView is the network use per program (P), busiest first, drawn
// again when bytes move.
type programsView struct{}

func (programsView) binding(k *keyMap) *key.Binding { return &k.Programs }
func (programsView) applies(*Model) bool            { return true }
func (programsView) follows() change                { return bytesMoved }

func (programsView) text(m *Model, width int) string {
	return programsText(*m.theme, m.store.Each, width)
}

// programUse is one program's share of the network: its connections and
// their rates summed.
type programUse struct {
	name    string
	pids    []int32 // the processes of the program that hold its connections, lowest first
	conns   int
	in, out float64
	// counted: at least one of its connections has the kernel's counters
	// (UDP has none: a program with UDP sockets only shows no rate).
	counted bool
}

// groupByProgram sums the open connections (not listeners: a listener's
// rate is its connections') by the program that holds them, busiest first,
// then by connections and name. A connection no process holds (TIME_WAIT,
// a handshake the kernel holds) belongs to no program and is left out.
func groupByProgram(each func(func(*rowset.Row))) []programUse {
	by := map[string]*programUse{}
	each(func(r *rowset.Row) {
		s := &r.Socket
		if s.IsListening() || len(s.Owners) == 0 && s.Inode == 0 {
			return
		}
		name := s.OwnerName()
		u := by[name]
		if u == nil {
			u = &programUse{name: name}
			by[name] = u
		}
		u.conns++
		if p := s.Process(); p != nil && !slices.Contains(u.pids, p.PID) {
			u.pids = append(u.pids, p.PID)
		}
		if f := r.Flow(); f != nil {
			u.counted = true
			if f.Measured {
				u.in += f.In
				u.out += f.Out
			}
		}
	})
	out := make([]programUse, 0, len(by))
	for _, u := range by {
		slices.Sort(u.pids)
		out = append(out, *u)
	}
	slices.SortFunc(out, func(a, b programUse) int {
		return cmp.Or(cmp.Compare(b.in+b.out, a.in+a.out), cmp.Compare(b.conns, a.conns), cmp.Compare(a.name, b.name))
	})
	return out
}

// programsText is the per-program pane: which program is using the
// network, busiest first.
func programsText(th Theme, each func(func(*rowset.Row)), width int) string {
	var b strings.Builder
	b.WriteString(th.PaneTitle.Render("Programs") + th.Muted.Render("  which program is using the network · busiest first · P or esc: back") + "\n")
	uses := groupByProgram(each)
	if len(uses) == 0 {
		b.WriteString("\n  No program holds a connection.\n")
		return b.String()
	}
	var in, out float64
	conns := 0
	for _, u := range uses {
		in, out, conns = in+u.in, out+u.out, conns+u.conns
	}
	fmt.Fprintf(&b, "  %s, in %s · out %s, over %s\n\n", statusFor(conns, "connection"), humanRate(in), humanRate(out), statusFor(len(uses), "program"))
	nameW := min(max(width-2-(6+7+9+9+4), 8), 32)
	header := fmt.Sprintf("  %-*s %6s %6s %9s %9s", nameW, "PROGRAM", "PROCS", "CONNS", "RATE IN", "RATE OUT")
	b.WriteString(th.ColumnHeader.Render(fit(header, max(width, 1))) + "\n")
	for _, u := range uses {
		rin, rout := "", ""
		if u.counted {
			rin, rout = humanRate(u.in), humanRate(u.out)
		}
		procs := "-"
		if len(u.pids) > 0 {
			procs = fmt.Sprint(len(u.pids))
		}
		line := fmt.Sprintf("  %s %6s %6d %9s %9s", align(u.name, nameW, false), procs, u.conns, rin, rout)
		b.WriteString(fit(line, max(width, 1)) + "\n")
	}
	b.WriteString("\n")
	for _, l := range hanging("  ", "  ", "Rates are the kernel's byte counters over the time between the last two polls; UDP keeps none. Listeners are left out: their connections are counted.", width) {
		b.WriteString(th.Muted.Render(l) + "\n")
	}
	return b.String()
}
