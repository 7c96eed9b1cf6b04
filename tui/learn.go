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
	return learnText(learnContext{theme: *m.theme, store: m.store, kb: m.cfg.Knowledge, assessment: m.assessment,
		baseline: m.baseline != nil || (m.assessment != nil && m.assessment.Baseline != nil),
		saveKey:  m.keys.SaveBaseline, lab: m.cfg.Lab != nil}, width)
}

// learnContext is what L reads besides the rows: the assessment (for the
// profile), whether a baseline is compared, and the key that saves one in
// the mode the monitor is in (none in a lab, where b walks back).
type learnContext struct {
	theme      Theme
	store      *rowset.Store
	kb         *assess.Knowledge
	assessment *assess.Assessment
	baseline   bool
	saveKey    key.Binding
	lab        bool
}

// learnText is the learn overlay (L): what the screen's words mean, with
// this machine's live sockets as examples wherever one exists, and the
// analyst's command that shows the same. It is plain text within the
// width, so it reads the same at 80x24 and without colour.
func learnText(lc learnContext, width int) string {
	th, store, kb := lc.theme, lc.store, lc.kb
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
	cmd := func(s string) { // the analyst's commands, muted, under their paragraph
		for _, l := range packItems(strings.Split(s, " · "), "  $ ", "$ ", "  ", w) {
			b.WriteString(th.Muted.Render(l) + "\n")
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
	para("The same list from a shell (as root, to see every program):")
	cmd("ss -ltnp (UDP: ss -lunp) · netstat -tlnp · lsof -i -sTCP:LISTEN")

	title("Listening, established, in and out")
	para("When a client connects, the listener stays and a new socket appears for the connection: ESTABLISHED on both ends. The Established tab (2) lists them. in: a client came to one of our listeners. out: a program here connected to another machine; the service named is the remote one.")
	in := example(func(r *rowset.Row) bool {
		return r.Socket.Direction == sockets.Inbound && r.Socket.State == sockets.StateEstablished
	})
	out := example(func(r *rowset.Row) bool {
		return r.Socket.Direction == sockets.Outbound && r.Socket.State == sockets.StateEstablished
	})
	if in == nil && out == nil {
		para("On this machine now: no established connection.")
	}
	if in != nil {
		now(in, " (in).")
	}
	if out != nil {
		now(out, " (out).")
	}
	para("A listener that should not be there, with connections established to it, is how a backdoor shows: a program waiting for its owner to come back.")
	cmd("ss -tnp state established · netstat -tnp")

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
	para("The number is how many sockets are in each state now. A connection's own story is in its details: the states it went through, with times. The All states tab (3) is what these show:")
	cmd("ss -tan (with programs: ss -tanp) · netstat -an")

	title("Open, closed and filtered")
	para("Seen from outside, a port is open when a service answers (a listener accepts the connection), closed when nothing listens and the machine answers with a reset (the client's connect is refused at once), filtered when a firewall drops the probe (the client waits in SYN_SENT until it gives up). These are nmap's three words.")
	para("As root portwatch reads each namespace's nftables ruleset and says, for every listener, what a new connection from outside meets: the word after the slash in the EXPOSED column, and the deciding rule in the details. It is what nmap would report from outside:")
	for _, l := range [][2]string{
		{"all/open", "bound to every interface and the firewall admits it: nmap says open"},
		{"all/restr", "restricted: some sources are admitted (the details list them), the rest meet filtered or closed"},
		{"all/filtered", "the firewall drops new connections: nmap says filtered"},
		{"all/closed", "the firewall answers with a reset: nmap says closed, though a program listens"},
		{"all/?", "unknown: the ruleset could not be read (not root, legacy iptables) or a rule cannot be decided; the details say why"},
		{"loopback", "127.0.0.1 or ::1: no outside packet reaches it, whatever the firewall"},
		{"address", "one address of this machine: reachable from that address's network"},
	} {
		b.WriteString(strings.Join(hanging(fmt.Sprintf("    %-13s", l[0]), strings.Repeat(" ", 17), l[1], w), "\n") + "\n")
	}
	para("A scan of closed ports leaves no socket to see (the kernel answers each probe with a reset), and a SYN scan (nmap -sS) leaves half-open connections for a round trip. portwatch reads the kernel's own TCP counters (/proc/net/snmp, /proc/net/netstat): resets sent to closed ports and half-open connections reset raise a SCAN warning in the header, held a minute, with the whole text in the events (e). One address reaching many of our listeners within a minute is a port-scan finding on its connections.")
	cmd("nmap -sS HOST (from another machine: open, closed, filtered) · nft list ruleset")

	title("Exposure, reachable and risk")
	para("Exposure says from where a listener can be reached: all (every interface: anyone who can reach the machine), loopback (127.0.0.1 or ::1: this machine alone), address (one address: that network). Binding a service to loopback is the cheapest protection there is.")
	para("The header counts the attack surface: N reachable are the listeners not on loopback that the firewall admits (open or restricted; where no firewall was read, by their address alone), with how many of them are HIGH; unreachable, those it filters or closes; unknown, those it was read for but cannot say (the header warns when they are many: the reachable count is then a floor, not the truth).")
	para("Risk is a word, never only a colour: INFO (worth knowing), LOW (check it is meant), MEDIUM (needs a look: cleartext, an unknown listener), HIGH (act: a database open to the network, a program from /tmp, a service in disguise, a backdoor port). A row's risk is its worst finding; the details list every finding, worst first, with why.")

	title("Common ports and their services")
	para("The ports every analyst knows, as the exam names them, with the registry's name (what /etc/services, ss and portwatch's SERVICE column say) beside it:")
	b.WriteString(th.Label.Render(fit(fmt.Sprintf("  %5s  %-7s  %-10s  %-13s  %-6s %s", "PORT", "PROTO", "EXAM", "REGISTRY", "RISK", "WHAT"), w)) + "\n")
	for _, c := range commonPorts {
		info := kb.Lookup(c.proto, c.port)
		head := fmt.Sprintf("  %5d  %-7s  %-10s  %-13s  %-6s ", c.port, c.protos, assess.CommonName(info.Name), info.Name, info.Risk)
		indent := strings.Repeat(" ", widthOf(head))
		for i, l := range wrap(info.Description, max(w-widthOf(head), 16)) {
			if i == 0 {
				b.WriteString(fit(head+l, w) + "\n")
			} else {
				b.WriteString(fit(indent+l, w) + "\n")
			}
		}
	}

	title("Server profiling")
	for _, l := range profileLines(th, lc.assessment, store, w) {
		b.WriteString(l + "\n")
	}
	para("R shows the profile full screen.")

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
	surface := fmt.Sprintf("%d listeners on all interfaces, %d on loopback only; %d rated HIGH", all, loop, high)
	if lc.baseline {
		surface += fmt.Sprintf("; %d not in the baseline", unexpected)
	} else {
		surface += "; no baseline to compare them with"
	}
	para(surface + ".")

	title("Good practice")
	para("Disable what is not used: every listener is a door. Bind to loopback what only this machine needs. Put a firewall in front of the rest, allowing only who must reach it. Run services with least privilege: not as root, or dropping it after binding. Watch for unexpected ports: " + saveHow(lc) + " and let portwatch flag what it lacks, here or with portwatch watch on a fleet.")

	title("The analyst's commands")
	para("What each part of the screen shows, as a shell shows it:")
	for _, l := range analystCommands {
		b.WriteString(strings.Join(packItems(strings.Split(l[1], " · "), fmt.Sprintf("    %-17s$ ", l[0]), "$ ", "  ", w), "\n") + "\n")
	}
	return b.String()
}

// saveHow says how to save a baseline in the mode the monitor is in: its
// key where one is bound, else the command (in a lab, b walks back).
func saveHow(lc learnContext) string {
	if lc.saveKey.Enabled() {
		return "save a baseline (" + lc.saveKey.Help().Key + ")"
	}
	if lc.lab {
		return "save a baseline (outside the lab: portwatch baseline save FILE, or b in the monitor; in the lab b walks back a step)"
	}
	return "save a baseline (portwatch baseline save FILE)"
}

// commonPorts is the CyberOps note's table of common ports: 53 on both
// transports, the mail ports 110 and 143 among them, and the databases
// portwatch meets most.
var commonPorts = []struct {
	port   uint16
	proto  sockets.Proto
	protos string
}{
	{20, sockets.TCP, "tcp"}, {21, sockets.TCP, "tcp"}, {22, sockets.TCP, "tcp"}, {23, sockets.TCP, "tcp"},
	{25, sockets.TCP, "tcp"}, {53, sockets.UDP, "udp/tcp"}, {67, sockets.UDP, "udp"}, {69, sockets.UDP, "udp"},
	{80, sockets.TCP, "tcp"}, {110, sockets.TCP, "tcp"}, {123, sockets.UDP, "udp"}, {143, sockets.TCP, "tcp"},
	{161, sockets.UDP, "udp"}, {443, sockets.TCP, "tcp"}, {445, sockets.TCP, "tcp"}, {3306, sockets.TCP, "tcp"},
	{3389, sockets.TCP, "tcp"}, {5432, sockets.TCP, "tcp"}, {6379, sockets.TCP, "tcp"}, {27017, sockets.TCP, "tcp"},
}

// analystCommands relates each tab and view to the command that shows the
// same thing: ? and L both list them.
var analystCommands = [][2]string{
	{"1 Listening", "ss -ltnp (UDP: ss -lunp) · netstat -tlnp · lsof -i -sTCP:LISTEN"},
	{"2 Established", "ss -tnp state established · netstat -tnp · lsof -i -sTCP:ESTABLISHED"},
	{"3 All states", "ss -tan (programs: ss -tanp) · netstat -an"},
	{"EXPOSED all/open", "nmap -sS HOST from outside: open, closed or filtered, as the word after the slash (nft list ruleset: the rules)"},
	{"RATE, P", "ss -tin (the kernel's counters) · nethogs, iftop"},
	{"R profile", "nmap -sV HOST from outside (each port's service and version)"},
	{"details", "ps -o user,pid,cmd -p PID · ls -l /proc/PID/exe · systemctl status PID"},
}
