package tui

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/assess"
	"github.com/portwatch/portwatch/sockets/baseline"
	"github.com/portwatch/portwatch/sockets/reach"
	"github.com/portwatch/portwatch/tui/rowset"
)

// detailView is the selected row's details full screen (enter), drawn
// again each poll: ages and states move on.
type detailView struct{}

func (detailView) binding(k *keyMap) *key.Binding { return &k.Detail }
func (detailView) applies(m *Model) bool          { return m.table.current() != nil }
func (detailView) follows() change                { return everyPoll }

func (detailView) text(m *Model, width int) string {
	return joinLines(detailLines(m.detailLook(), m.table.current(), width))
}

// detailLook is what the detail pane needs besides its row.
type detailLook struct {
	theme      Theme
	cells      cellContext
	multiNetns bool
	socketsOf  func(pid int32) int // sockets a process holds; nil before the first poll
	interval   time.Duration       // between polls: what a history can miss
	published  []sockets.Published // the last poll's published ports: a listener says which reach it
}

// renderDetailPane draws the selected row's details in a w x h block; what
// does not fit is cut, with a pointer to the full-screen view.
func renderDetailPane(look detailLook, r *rowset.Row, w, h int) []string {
	if h <= 0 || w <= 0 {
		return nil
	}
	th := look.theme
	title := th.PaneTitle.Render("Details")
	rule := fit(title+" "+th.Muted.Render(strings.Repeat("─", max(w-widthOf(title)-1, 0))), w)
	if r == nil {
		return fitLines([]string{rule, th.Muted.Render("Select a row to see its service, process and risks.")}, w, h)
	}
	// What does not fit is cut: the findings then come before the
	// service's description, so that a short pane (at 80x24, under a lab's
	// narration) still shows why the row is flagged.
	p := detailParts(look, r, w)
	lines := append([]string{rule}, p.all()...)
	if len(lines) > h {
		lines = append([]string{rule}, p.findingsFirst()...)
	}
	if len(lines) > h && h >= 2 {
		lines = append(lines[:h-1], th.Muted.Render("… enter: full details"))
	}
	return fitLines(lines, w, h)
}

// detailLines is the full description of a row, read from its verdict:
// service and risk, findings worst first, the socket and its state, the
// processes. It computes no judgement of its own.
func detailLines(look detailLook, r *rowset.Row, w int) []string {
	return detailParts(look, r, w).all()
}

// details is a row's description in its parts: the head (marks, service
// and risk), what the service is, the findings, and the rest.
type details struct {
	head, about, findings, baseline, firewall, rest []string
	ruled                                           bool // the firewall's verdict is known: it goes first in a short pane
}

func (d details) all() []string {
	return slices.Concat(d.head, d.about, d.findings, d.baseline, d.firewall, d.rest)
}

// findingsFirst is for a short pane: the findings, then the rest; where
// the firewall's verdict is known, that verdict and its rule first (two
// lines, the evidence of EXPOSED: at 80x24 the lab's firewall step showed
// all/filtered with its rule out of sight). An unknown verdict says why
// at the end.
func (d details) findingsFirst() []string {
	if !d.ruled {
		return slices.Concat(d.head, d.findings, d.about, d.baseline, d.firewall, d.rest)
	}
	return slices.Concat(d.head, d.firewall, d.findings, d.about, d.baseline, d.rest)
}

func detailParts(look detailLook, r *rowset.Row, w int) details {
	s, info, th, now := &r.Socket, r.Service, look.theme, look.cells.now
	var d details
	var out []string
	label := func(s string) string { return th.Label.Render(s) }

	if r.Removed() {
		out = append(out, th.Removed.Render("- CLOSED "+ageOf(now, r.ClosedAt())+" ago"))
	} else if r.Added(now) {
		out = append(out, th.Added.Render("+ NEW"))
	}
	out = append(out, fmt.Sprintf("%s %s  %d/%s  %s", label("Service"), assess.ServiceLabel(info.Name), assess.ServicePort(s), s.Proto, riskBadge(th, r.Risk)))
	d.head = out
	d.about = append(hanging("  ", "  ", info.Description+"; identified "+info.How()+".", w), hanging("  ", "  ", info.Note, w)...)

	if len(r.Findings) > 0 && !r.Removed() {
		d.findings = append(d.findings, label("Findings"))
		remedies := map[string]bool{}
		for _, f := range r.Findings {
			badge := th.Risk(f.Severity).Render(fmt.Sprintf("%-6s", f.Severity))
			d.findings = append(d.findings, hanging("  "+badge+" ", strings.Repeat(" ", 9), f.Text, w)...)
			if f.Remedy != "" && !remedies[f.Remedy] { // what to do, where assess knows; once
				remedies[f.Remedy] = true
				d.findings = append(d.findings, hanging(strings.Repeat(" ", 9), strings.Repeat(" ", 9), "Remedy: "+f.Remedy, w)...)
			}
		}
	}
	out = nil

	if r.Baseline.Status == baseline.Missing {
		e := r.Baseline.Entry
		out = append(out, label("Baseline"))
		out = append(out, hanging("  ", "  ", fmt.Sprintf("MISSING: line %d of the baseline expects %s as %s listening on %s %s port %s; nothing does now.",
			e.Line, e.Program, e.User, e.ProtoWord(), e.Address, portWords(e)), w)...)
		d.rest = out
		return d
	}
	if st := r.Baseline.Status; st != baseline.NotCompared {
		d.baseline = []string{label("Baseline") + " " + baselineWord(st)}
	}
	if fw := r.Firewall(); fw.Kind != "" {
		d.firewall, d.ruled = firewallLines(label, fw, w), fw.Kind != reach.Unknown
	}
	if r.Published != nil { // a published port's row: a DNAT, not a socket
		d.rest = append(publishedLines(label, r.Published, look.multiNetns, w), hanging("  ", "  ", s.State+": "+r.StateText(), w)...)
		return d
	}
	if as := sockets.PublishedAs(look.published, s); s.IsListening() && len(as) > 0 {
		d.firewall = append(d.firewall, hanging(label("Published")+" ", "  ", "as "+strings.Join(as, ", ")+": the host's DNAT sends connections there", w)...)
	}
	out = append(out, label("Socket"))
	out = append(out, fmt.Sprintf("  %s %s  local %s  remote %s", s.ProtoLabel(), s.State, s.LocalEndpoint(), remoteCell(look.cells, r)))
	if s.Netns != "" && (look.multiNetns || s.Netns != sockets.HostNetns) {
		out = append(out, "  network namespace: "+s.Netns)
	}
	if s.Direction != 0 {
		out = append(out, fmt.Sprintf("  %s connection, seen for %s", s.Direction.Word(), ageOf(now, r.FirstSeen())))
	} else {
		out = append(out, fmt.Sprintf("  exposure: %s · established connections: %d", s.Exposure(), r.Conns))
	}
	out = append(out, hanging("  ", "  ", s.State+": "+r.StateText(), w)...)
	out = append(out, trafficLines(look, r, w)...)
	if !s.IsListening() {
		out = append(out, historyLines(look, r, w)...)
	}

	out = append(out, label("Process"))
	if len(s.Owners) == 0 {
		out = append(out, hanging("  ", "  ", assess.OwnerAbsence(s), w)...)
	}
	for i, p := range s.Owners {
		if i > 0 {
			out = append(out, label(fmt.Sprintf("  also held by (%d of %d)", i+1, len(s.Owners))))
		}
		if i >= 3 {
			out = append(out, fmt.Sprintf("  … and %d more processes", len(s.Owners)-i))
			break
		}
		out = append(out, processLines(look, p, w)...)
	}
	d.rest = out
	return d
}

func processLines(look detailLook, p *sockets.Process, w int) []string {
	user := p.User
	if user == "" {
		user = "?"
	}
	out := []string{fmt.Sprintf("  pid %d  %s  user %s (uid %d)", p.PID, p.Name, user, p.UID)}
	field := func(name, value string) {
		if value != "" {
			prefix := fmt.Sprintf("  %-8s", name)
			out = append(out, hanging(look.theme.Label.Render(prefix), strings.Repeat(" ", len(prefix)), value, w)...)
		}
	}
	field("command", p.Cmdline)
	exe := p.Exe
	if p.ExeDeleted {
		exe += " (deleted)"
	}
	field("exe", exe)
	field("parent", strconv.Itoa(int(p.PPID)))
	if !p.Started.IsZero() {
		field("started", fmt.Sprintf("%s (%s ago)", p.Started.Format("2006-01-02 15:04:05"), ageOf(look.cells.now, p.Started)))
	}
	field("unit", p.Unit)
	if look.socketsOf != nil {
		field("sockets", strconv.Itoa(look.socketsOf(p.PID)))
	}
	return out
}

// portWords is a baseline entry's port as the file says it.
func portWords(e *baseline.Entry) string {
	switch {
	case e.Low == 0 && e.High == 65535:
		return "any"
	case e.Low != e.High:
		return fmt.Sprintf("%d-%d", e.Low, e.High)
	}
	return strconv.Itoa(int(e.Low))
}

// historyLines is a connection's story: the states it went through, with
// times, how long it has been in its state, and an honest word on what a
// poll can miss.
func historyLines(look detailLook, r *rowset.Row, w int) []string {
	h := r.History()
	if len(h) == 0 {
		return nil
	}
	steps := make([]string, len(h))
	for i, t := range h {
		steps[i] = t.State + " " + t.At.Format("15:04:05")
	}
	out := []string{look.theme.Label.Render("History")}
	out = append(out, hanging("  ", "  ", strings.Join(steps, " → "), w)...)
	since := ageOf(look.cells.now, r.InStateSince())
	switch st := r.Socket.State; {
	case r.Removed():
	case st == "CLOSE_WAIT":
		out = append(out, hanging("  ", "  ", fmt.Sprintf("In CLOSE_WAIT for %s: the peer closed; this program has not closed its end yet.", since), w)...)
	case st == "TIME_WAIT" && r.Socket.Timer == sockets.TimerTimeWait:
		left := int(math.Ceil(r.Socket.TimeLeft().Seconds()))
		out = append(out, hanging("  ", "  ", fmt.Sprintf("TIME_WAIT: %d s left by the kernel's countdown (seen in it for %s); then the kernel lets it go.", left, since), w)...)
	case st == "TIME_WAIT":
		out = append(out, hanging("  ", "  ", fmt.Sprintf("In TIME_WAIT for %s: the kernel lets it go after 60 s.", since), w)...)
	default:
		out = append(out, fmt.Sprintf("  in %s for %s", st, since))
	}
	out = append(out, hanging("  ", "  ", fmt.Sprintf("States shorter than the poll interval (%s) can be missed: --interval=100ms sees more.", look.interval), w)...)
	return out
}

// firewallLines says what the firewall does to a new connection from
// outside, and the rule that decides it, in nft syntax.
func firewallLines(label func(string) string, fw reach.Verdict, w int) []string {
	out := []string{label("Firewall") + " " + string(fw.Kind) + " from outside"}
	if fw.Rule != "" {
		out = append(out, hanging("  rule ", "       ", fw.Rule, w)...)
	}
	if len(fw.Sources) > 0 || len(fw.Except) > 0 {
		var ps []string
		for _, p := range fw.Sources {
			ps = append(ps, p.String())
		}
		for _, p := range fw.Except {
			ps = append(ps, "not "+p.String())
		}
		out = append(out, hanging("  from ", "       ", strings.Join(ps, ", "), w)...)
	}
	for _, note := range []string{fw.Reason, fw.Note} {
		if note != "" {
			out = append(out, hanging("  ", "  ", note, w)...)
		}
	}
	return out
}
