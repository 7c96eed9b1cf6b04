//go:build linux

package main

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/assess"
	"github.com/portwatch/portwatch/sockets/baseline"
)

// printTables writes the --once report: with a baseline, the listeners that
// differ from it (unexpected, changed, missing); listening sockets, then established
// connections (then, with --all, the other states), as aligned columns, and
// then the findings of what was listed, worst first. Service and risk are
// the assessment's, as the monitor shows them.
func printTables(w io.Writer, snap *sockets.Snapshot, a *assess.Assessment, o rootSettings) error {
	var listening, established, other []*assess.Verdict
	for _, v := range a.Verdicts {
		switch v.Socket.Kind() {
		case sockets.KindListening:
			listening = append(listening, v)
		case sockets.KindEstablished:
			established = append(established, v)
		default:
			other = append(other, v)
		}
	}
	sortVerdicts(listening)
	sortVerdicts(established)
	sortVerdicts(other)

	// With more than one network namespace, each row says where it lives.
	multiNetns := false
	for i := range snap.Sockets {
		if n := snap.Sockets[i].Netns; n != "" && n != sockets.HostNetns {
			multiNetns = true
			break
		}
	}
	row := func(s *sockets.Socket, cells ...string) []string {
		if multiNetns {
			return append([]string{s.Netns}, cells...)
		}
		return cells
	}
	head := func(cells ...string) []string {
		if multiNetns {
			return append([]string{"NETNS"}, cells...)
		}
		return cells
	}
	out := &errWriter{w: w}
	if a.Baseline != nil {
		printBaseline(out, a)
		out.printf("\n")
	}
	var shown []*assess.Verdict
	if !o.established {
		out.printf("LISTENING (%d)\n", len(listening))
		t := &textTable{}
		t.add(head("PROTO", "ADDRESS", "PORT", "SERVICE", "RISK", "CONNS", "PID", "PROCESS", "USER", "EXPOSURE")...)
		for _, v := range listening {
			s := &v.Socket
			service := v.Service.Name
			if v.Role == assess.RoleClientSocket {
				service = "client socket" // a daemon's own, not a service it offers
			}
			t.add(row(s, s.ProtoLabel(), s.Local.String(), strconv.Itoa(int(s.LPort)), service, v.Risk.String(),
				strconv.Itoa(int(v.Conns)), s.OwnerPIDs(), s.OwnerName(), s.OwnerUser(), string(s.Exposure()))...)
		}
		out.table(t)
		shown = append(shown, listening...)
		printPublished(out, a.Published)
		shown = append(shown, a.Published...)
	}
	if !o.listening {
		if !o.established {
			out.printf("\n")
		}
		out.printf("ESTABLISHED (%d)\n", len(established))
		out.table(connectionTable(established, false, head, row))
		shown = append(shown, established...)
		if o.showAll {
			out.printf("\nOTHER STATES (%d)\n", len(other))
			out.table(connectionTable(other, true, head, row))
			shown = append(shown, other...)
		} else if len(other) > 0 && !o.established {
			out.printf("\n%d sockets in other states (%s): --all lists them\n", len(other), stateCounts(other))
		}
	}
	printFindings(out, shown)
	if !o.established {
		printProfile(out, a.Profile)
	}
	if note := a.NetnsReason(); note != "" {
		out.printf("\n%s\n", note)
	}
	if note := a.HiddenReason(); note != "" {
		out.printf("\n%d owners hidden: %s\n", snap.Hidden, note)
	}
	return out.err
}

// printBaseline writes the section that cron and CI read first: which
// baseline file is in use, and the listeners that differ from it.
func printBaseline(out *errWriter, a *assess.Assessment) {
	b := a.Baseline
	devs := baselineDeviations(a)
	if len(devs) == 0 {
		out.printf("BASELINE %s (%s): every listener expected, none missing\n", b.Path, plural(len(b.Entries), "entry", "entries"))
		return
	}
	n := map[baseline.Status]int{}
	netns := false
	for _, v := range devs {
		n[v.Baseline.Status]++
		netns = netns || (v.Socket.Netns != "" && v.Socket.Netns != sockets.HostNetns)
	}
	out.printf("BASELINE %s (%s): %d unexpected, %d changed, %d missing\n", b.Path, plural(len(b.Entries), "entry", "entries"),
		n[baseline.Unexpected], n[baseline.Changed], n[baseline.Missing])
	listeners := devs[:len(devs)-len(a.Missing)]
	sortVerdicts(listeners)
	t := &textTable{}
	cells := func(netnsLabel string, c ...string) []string {
		if netns {
			return append([]string{netnsLabel}, c...)
		}
		return c
	}
	t.add(cells("NETNS", "STATUS", "PROTO", "ADDRESS", "PORT", "SERVICE", "RISK", "PID", "PROCESS", "USER", "THE BASELINE SAYS")...)
	for _, v := range devs {
		s, e := &v.Socket, v.Baseline.Entry
		switch v.Baseline.Status {
		case baseline.Missing:
			t.add(cells(e.Netns, v.Baseline.Status.String(), e.ProtoWord(), e.Address, entryPort(e), v.Service.Name, v.Risk.String(),
				"-", "-", "-", fmt.Sprintf("line %d: %s as %s; nothing listens", e.Line, e.Program, e.User))...)
		case baseline.Changed:
			t.add(cells(s.Netns, v.Baseline.Status.String(), s.ProtoLabel(), s.Local.String(), strconv.Itoa(int(s.LPort)), v.Service.Name, v.Risk.String(),
				s.OwnerPIDs(), s.OwnerName(), s.OwnerUser(), fmt.Sprintf("line %d: %s as %s", e.Line, e.Program, e.User))...)
		default:
			t.add(cells(s.Netns, v.Baseline.Status.String(), s.ProtoLabel(), s.Local.String(), strconv.Itoa(int(s.LPort)), v.Service.Name, v.Risk.String(),
				s.OwnerPIDs(), s.OwnerName(), s.OwnerUser(), "no line names it")...)
		}
	}
	out.table(t)
}

func connectionTable(verdicts []*assess.Verdict, withState bool, head func(...string) []string, row func(*sockets.Socket, ...string) []string) *textTable {
	t := &textTable{}
	if withState {
		t.add(head("PROTO", "STATE", "LOCAL", "REMOTE", "DIR", "SERVICE", "RISK", "PID", "PROCESS", "USER")...)
	} else {
		t.add(head("PROTO", "LOCAL", "REMOTE", "DIR", "SERVICE", "RISK", "PID", "PROCESS", "USER")...)
	}
	for _, v := range verdicts {
		s := &v.Socket
		cells := []string{s.ProtoLabel(), s.LocalEndpoint(), s.RemoteEndpoint(), s.Direction.String(), v.Service.Name, v.Risk.String(),
			s.OwnerPIDs(), s.OwnerName(), s.OwnerUser()}
		if withState {
			cells = append([]string{cells[0], s.State}, cells[1:]...)
		}
		t.add(row(s, cells...)...)
	}
	return t
}

// printFindings lists the findings of the sockets shown, LOW and worse,
// worst first, each with its remedy where it has one: what an analyst
// reads before anything else. The INFO ones
// (loopback only, dual-stack) are in --json and the monitor's details.
func printFindings(out *errWriter, shown []*assess.Verdict) {
	type item struct {
		v *assess.Verdict
		f assess.Finding
	}
	var items []item
	for _, v := range shown {
		for _, f := range v.Findings {
			if f.Severity > assess.RiskInfo {
				items = append(items, item{v, f})
			}
		}
	}
	out.printf("\nFINDINGS (%d)\n", len(items))
	if len(items) == 0 {
		out.printf("none above INFO\n")
		return
	}
	slices.SortStableFunc(items, func(a, b item) int { return cmp.Compare(b.f.Severity, a.f.Severity) })
	t := &textTable{}
	t.add("RISK", "SOCKET", "PROCESS", "CODE", "FINDING")
	for _, it := range items {
		s := &it.v.Socket
		text := it.f.Text
		if it.f.Remedy != "" {
			text += " Remedy: " + it.f.Remedy
		}
		t.add(it.f.Severity.String(), s.ProtoLabel()+" "+s.LocalEndpoint(), s.OwnerName(), it.f.Code, text)
	}
	out.table(t)
}

// printProfile is the server profile: the conclusion an analyst draws from
// the listeners, each role with its evidence, and what stands out.
func printProfile(out *errWriter, p assess.Profile) {
	out.printf("\nPROFILE: %s\n", p.Summary())
	for _, r := range p.Roles {
		name := r.Name
		if r.Detail != "" {
			name += " (" + r.Detail + ")"
		}
		out.printf("  %s: %s\n", name, strings.Join(r.Evidence, "; "))
	}
	for _, so := range p.Standouts {
		out.printf("  %-6s %s: %s\n", so.Risk, so.Code, so.Text)
	}
}

// errWriter keeps the first write error, so a report is written without an
// error check per line and still fails on a closed pipe.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
	}
}

func (e *errWriter) table(t *textTable) {
	if e.err == nil {
		e.err = t.write(e.w)
	}
}

func stateCounts(verdicts []*assess.Verdict) string {
	n := map[string]int{}
	for _, v := range verdicts {
		n[v.Socket.State]++
	}
	states := make([]string, 0, len(n))
	for st := range n {
		states = append(states, st)
	}
	slices.Sort(states)
	parts := make([]string, len(states))
	for i, st := range states {
		parts[i] = st + " " + strconv.Itoa(n[st])
	}
	return strings.Join(parts, ", ")
}

// sortVerdicts orders by port, then protocol, then address.
func sortVerdicts(verdicts []*assess.Verdict) {
	slices.SortStableFunc(verdicts, func(x, y *assess.Verdict) int {
		a, b := &x.Socket, &y.Socket
		return cmp.Or(cmp.Compare(a.LPort, b.LPort), cmp.Compare(a.Proto, b.Proto),
			a.Local.Compare(b.Local), cmp.Compare(a.RPort, b.RPort), a.Remote.Compare(b.Remote))
	})
}
