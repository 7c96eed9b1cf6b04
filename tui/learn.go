package tui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/assess"
	"github.com/portwatch/portwatch/sockets/baseline"
	"github.com/portwatch/portwatch/tui/rowset"
)

// learnView is the learn overlay (L). Its examples are taken when it opens
// and when the rows change, not each poll.
type learnView struct{}

func (learnView) binding(k *keyMap) *key.Binding { return &k.Learn }
func (learnView) applies(*Model) bool            { return true }
func (learnView) follows() change                { return 0 }

func (learnView) text(m *Model, width int) string {
	return learnText(m.theme, m.store, m.cfg.Knowledge, width)
}

// learnText is the learn overlay (L): what the screen's words mean, with
// this machine's live sockets as examples wherever one exists. It is plain
// text within the width, so it reads the same at 80x24 and without colour.
func learnText(th Theme, store *rowset.Store, kb *assess.Knowledge, width int) string {
	w := max(width, 20)
	var b strings.Builder
	title := func(s string) { b.WriteString("\n" + th.PaneTitle.Render(s) + "\n") }
	para := func(s string) {
		for _, l := range wrap(s, w-2) {
			b.WriteString("  " + l + "\n")
		}
	}
	pre := func(lines ...string) {
		for _, l := range lines {
			b.WriteString(fit("    "+l, w) + "\n")
		}
	}
	rows := store.Rows(rowset.Query{Tab: rowset.All}, nil)
	example := func(pred func(*rowset.Row) bool) *rowset.Row {
		for _, r := range rows {
			if !r.Removed() && r.Baseline.Status != baseline.Missing && pred(r) {
				return r
			}
		}
		return nil
	}
	say := func(r *rowset.Row) string {
		s := &r.Socket
		who := s.OwnerName()
		if p := s.Process(); p != nil {
			who = fmt.Sprintf("%s (pid %d)", p.Name, p.PID)
		}
		if s.IsListening() {
			return fmt.Sprintf("%s %s, held by %s", s.ProtoLabel(), s.LocalEndpoint(), who)
		}
		return fmt.Sprintf("%s %s -> %s, %s, held by %s", s.ProtoLabel(), s.LocalEndpoint(), s.RemoteEndpoint(), s.State, who)
	}
	now := func(r *rowset.Row, what string) {
		if r != nil {
			para("On this machine now: " + say(r) + what)
		} else {
			para("On this machine now: none.")
		}
	}

	b.WriteString(th.PaneTitle.Render("Learn: what the screen says") + th.Muted.Render("  L or esc: back · ↑/↓ pgup/pgdn: scroll") + "\n")

	title("A listening port")
	para("A program that offers a service asks the kernel to listen on a port: clients then connect to that address and port. A TCP socket in LISTEN, or a bound UDP socket with no peer (UNCONN), is a door of this machine. The Listening tab (1) lists them: the services this machine offers.")
	now(example(func(r *rowset.Row) bool { return r.Socket.IsListening() }), ".")

	title("Listening, established, in and out")
	para("When a client connects, the listener stays and a new socket appears for the connection: ESTABLISHED on both ends. The Established tab (2) lists them. in: a client came to one of our listeners. out: a program here connected to another machine; the service named is the remote one.")
	now(example(func(r *rowset.Row) bool {
		return r.Socket.Direction == sockets.Inbound && r.Socket.State == sockets.StateEstablished
	}), " (in).")
	now(example(func(r *rowset.Row) bool {
		return r.Socket.Direction == sockets.Outbound && r.Socket.State == sockets.StateEstablished
	}), " (out).")

	title("The TCP states")
	para("Opening: the three-way handshake.")
	pre("client                         server (LISTEN)",
		"SYN_SENT     --- SYN --->      SYN_RECV",
		"ESTABLISHED  <-- SYN,ACK ---",
		"             --- ACK --->      ESTABLISHED")
	para("Closing: each side sends its FIN. The side that closes first ends in TIME_WAIT; the other waits in CLOSE_WAIT until its program closes.")
	pre("closes first                   other side",
		"FIN_WAIT1    --- FIN --->      CLOSE_WAIT (program not closed yet)",
		"FIN_WAIT2    <-- ACK ---",
		"             <-- FIN ---       LAST_ACK (program closed)",
		"TIME_WAIT    --- ACK --->      (gone)",
		"(gone after 60 s)")
	for _, st := range append(append([]string{}, assess.TCPStates...), sockets.StateUnconnected) {
		n := 0
		for _, r := range rows {
			if r.Socket.State == st && !r.Removed() {
				n++
			}
		}
		lines := wrap(assess.StateHelp(sockets.TCP, st), max(w-22, 20))
		for i, l := range lines {
			head := ""
			if i == 0 {
				head = fmt.Sprintf("%-12s %4d ", st, n)
			}
			b.WriteString(fit(fmt.Sprintf("  %-18s%s", head, l), w) + "\n")
		}
	}
	para("The number is how many sockets are in each state now. A connection's own story is in its details: the states it went through, with times.")

	title("Open, closed and filtered")
	para("Seen from outside, a port is open when a service answers (a listener accepts the connection), closed when nothing listens and the machine answers with a reset (the client's connect is refused at once), filtered when a firewall drops the probe (the client waits in SYN_SENT until it gives up).")
	para("A scan of closed or filtered ports leaves no socket here to see: only connections that reach a listener show. To see scans of closed ports, read the firewall's log. What portwatch can see: one address reaching many of our listeners within a minute is a port-scan finding.")

	title("Exposure and risk")
	para("Exposure says from where a listener can be reached: all (every interface: anyone who can reach the machine), loopback (127.0.0.1 or ::1: this machine alone), address (one address: that network). Binding a service to loopback is the cheapest protection there is.")
	para("Risk is a word, never only a colour: INFO (worth knowing), LOW (check it is meant), MEDIUM (needs a look: cleartext, an unknown listener), HIGH (act: a database open to the network, a program from /tmp, a service in disguise, a backdoor port). A row's risk is its worst finding; the details list every finding, worst first, with why.")

	title("Common ports and their services")
	for _, p := range []uint16{21, 22, 23, 25, 53, 80, 443, 445, 3306, 3389, 5432, 6379, 27017} {
		proto := sockets.TCP
		info := kb.Lookup(proto, p)
		b.WriteString(fit(fmt.Sprintf("  %5d  %-14s %-6s %s", p, info.Name, info.Risk, info.Description), w) + "\n")
	}

	title("This machine's attack surface now")
	var all, loop, high, unexpected int
	for _, r := range rows {
		if r.Removed() || !r.Socket.IsListening() || r.Baseline.Status == baseline.Missing {
			continue
		}
		switch r.Socket.Exposure() {
		case sockets.ExposureAll:
			all++
		case sockets.ExposureLoopback:
			loop++
		}
		if r.Risk == assess.RiskHigh {
			high++
		}
		if r.Baseline.Status == baseline.Unexpected {
			unexpected++
		}
	}
	para(fmt.Sprintf("%d listeners on all interfaces, %d on loopback only; %d rated HIGH; %d not in the baseline.", all, loop, high, unexpected))

	title("Good practice")
	para("Disable what is not used: every listener is a door. Bind to loopback what only this machine needs. Put a firewall in front of the rest, allowing only who must reach it. Run services with least privilege: not as root, or dropping it after binding. Watch for unexpected ports: save a baseline (b) and let portwatch flag what it lacks, here or with portwatch watch on a fleet.")
	return b.String()
}
