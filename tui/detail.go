package tui

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/portwatch/portwatch/sockets"
)

// viewDetailPane renders the selected row's details in a w x h block; what
// does not fit is cut, with a pointer to the full-screen view.
func (m *Model) viewDetailPane(w, h int) []string {
	if h <= 0 || w <= 0 {
		return nil
	}
	title := m.theme.PaneTitle.Render("Details")
	rule := fit(title+" "+m.theme.Muted.Render(strings.Repeat("─", max(w-widthOf(title)-1, 0))), w)
	t := m.current()
	if t == nil {
		return fitLines([]string{rule, m.theme.Muted.Render("Select a row to see its service, process and risks.")}, w, h)
	}
	body := m.detailLines(t, w)
	lines := append([]string{rule}, body...)
	if len(lines) > h && h >= 2 {
		lines = append(lines[:h-1], m.theme.Muted.Render("… enter: full details"))
	}
	return fitLines(lines, w, h)
}

// detailLines is the full description of a row: service and risk, findings
// worst first, process, state.
func (m *Model) detailLines(t *tracked, w int) []string {
	s, info, th := &t.sock, t.info, m.theme
	var out []string
	para := func(prefix, text string) {
		for i, l := range wrap(text, max(w-len(prefix), 10)) {
			if i == 0 {
				out = append(out, prefix+l)
			} else {
				out = append(out, strings.Repeat(" ", len(prefix))+l)
			}
		}
	}
	label := func(s string) string { return th.Label.Render(s) }

	if t.removed() {
		out = append(out, th.Removed.Render(fmt.Sprintf("- CLOSED %s ago", shortDuration(m.now.Sub(t.goneAt.Time())))))
	} else if t.added(m.now) {
		out = append(out, th.Added.Render("+ NEW"))
	}
	port := sockets.ServicePort(s)
	out = append(out, fmt.Sprintf("%s %s  %d/%s  %s", label("Service"), info.Name, port, s.Proto, riskBadge(th, t.risk)))
	para("  ", info.Description+".")
	para("  ", info.Note)

	var findings []sockets.Finding
	if m.analysis != nil && !t.removed() {
		findings = m.analysis.Findings(s)
	}
	if len(findings) > 0 {
		out = append(out, label("Findings"))
		for _, f := range findings {
			badge := th.Risk(f.Risk).Render(fmt.Sprintf("%-6s", f.Risk))
			first := true
			for _, l := range wrap(f.Text, max(w-9, 10)) {
				if first {
					out = append(out, "  "+badge+" "+l)
					first = false
				} else {
					out = append(out, "         "+l)
				}
			}
		}
	}

	out = append(out, label("Socket"))
	out = append(out, fmt.Sprintf("  %s %s  local %s  remote %s", s.ProtoLabel(), s.State, s.LocalEndpoint(), remoteCell(m, t)))
	if s.Netns != "" && (m.multiNetns || s.Netns != sockets.HostNetns) {
		out = append(out, "  network namespace: "+s.Netns)
	}
	if s.Direction != 0 {
		out = append(out, fmt.Sprintf("  %s connection, seen for %s", map[sockets.Direction]string{sockets.Inbound: "inbound", sockets.Outbound: "outbound"}[s.Direction], shortDuration(m.now.Sub(t.firstSeen.Time()))))
	} else {
		out = append(out, fmt.Sprintf("  exposure: %s · established connections: %d", s.Exposure(), t.conns))
	}
	para("  ", s.State+": "+sockets.StateHelp(s.Proto, s.State))

	out = append(out, label("Process"))
	switch {
	case len(s.Owners) == 0:
		para("  ", ownerAbsence(s))
	default:
		for i, p := range s.Owners {
			if i > 0 {
				out = append(out, label(fmt.Sprintf("  also held by (%d of %d)", i+1, len(s.Owners))))
			}
			if i >= 3 {
				out = append(out, fmt.Sprintf("  … and %d more processes", len(s.Owners)-i))
				break
			}
			out = append(out, m.processLines(p, w)...)
		}
	}
	return out
}

func (m *Model) processLines(p *sockets.Process, w int) []string {
	var out []string
	user := p.User
	if user == "" {
		user = "?"
	}
	out = append(out, fmt.Sprintf("  pid %d  %s  user %s (uid %d)", p.PID, p.Name, user, p.UID))
	field := func(name, value string) {
		if value == "" {
			return
		}
		prefix := "  " + fmt.Sprintf("%-8s", name)
		for i, l := range wrap(value, max(w-len(prefix), 10)) {
			if i == 0 {
				out = append(out, m.theme.Label.Render(prefix)+l)
			} else {
				out = append(out, strings.Repeat(" ", len(prefix))+l)
			}
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
		field("started", fmt.Sprintf("%s (%s ago)", p.Started.Format("2006-01-02 15:04:05"), shortDuration(m.now.Sub(p.Started))))
	}
	field("unit", p.Unit)
	if m.analysis != nil {
		field("sockets", strconv.Itoa(m.analysis.SocketsOf(p.PID)))
	}
	return out
}

// ownerAbsence explains a socket with no process.
func ownerAbsence(s *sockets.Socket) string {
	switch s.OwnerStatus {
	case sockets.OwnerHidden:
		return fmt.Sprintf("Hidden: the socket belongs to uid %d and portwatch is not root. Run portwatch as root to see the process.", s.UID)
	case sockets.OwnerOutside:
		return "No process in portwatch's view holds this socket: its owner runs outside this pid namespace (a container, a sandbox or the host seen from a container)."
	}
	return "No process owns this socket: the kernel holds it (TIME_WAIT and half-open handshakes belong to no process)."
}

// refreshDetail fills the full-screen details with the selected row, and
// returns to the table when no row is left to show.
func (m *Model) refreshDetail() {
	if t := m.current(); t != nil {
		m.pane.SetContent(strings.Join(m.detailLines(t, m.width), "\n"))
	} else {
		m.mode = modeTable
	}
}

// layoutPane sizes the full-screen viewport and fills it for the mode.
func (m *Model) layoutPane() {
	m.pane.Width = max(m.width, 0)
	m.pane.Height = max(m.height-chromeLines, 0)
	switch m.mode {
	case modeDetail:
		m.refreshDetail()
	case modeHelp:
		m.pane.SetContent(m.helpText())
		m.pane.GotoTop()
	}
}

// helpText is the full help: the keys, then what the tabs and TCP states mean.
func (m *Model) helpText() string {
	var b strings.Builder
	b.WriteString(m.help.FullHelpView(m.keys.FullHelp()))
	b.WriteString("\n\n" + m.theme.PaneTitle.Render("Tabs") + "\n")
	b.WriteString("  1 Listening    services this machine offers: TCP LISTEN and bound UDP sockets\n")
	b.WriteString("  2 Established  connections in progress, inbound (in) or outbound (out)\n")
	b.WriteString("  3 All states   every socket with its TCP state: watch connections open and close\n")
	b.WriteString("  Marks: > selected row, + new (5 s), - closed (5 s). Risk: INFO LOW MEDIUM HIGH.\n")
	b.WriteString("\n" + m.theme.PaneTitle.Render("Socket states") + "\n")
	for _, st := range append(append([]string{}, sockets.TCPStates...), sockets.StateUnconnected) {
		for i, l := range wrap(sockets.StateHelp(sockets.TCP, st), max(m.width-16, 20)) {
			if i == 0 {
				fmt.Fprintf(&b, "  %-12s %s\n", st, l)
			} else {
				fmt.Fprintf(&b, "  %-12s %s\n", "", l)
			}
		}
	}
	if m.snap != nil {
		fmt.Fprintf(&b, "\nSockets are listed through %s.\n", m.snap.Method)
	}
	return b.String()
}
