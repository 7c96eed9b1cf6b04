package assess

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/baseline"
	"github.com/portwatch/portwatch/sockets/reach"
)

// Finding is one observation about a socket in its context, for an analyst.
// Code is a stable word per kind of finding, so scripts can filter without
// parsing English; Text is the sentence for people.
type Finding struct {
	Severity Risk   `json:"severity"`
	Code     string `json:"code"`
	Text     string `json:"text"`
	// Remedy is what to do about it, as a command or a setting, where
	// portwatch knows one (remedy.go); "" where it does not.
	Remedy string `json:"remedy,omitempty"`
}

// The codes of findings. They are part of the JSON interface: never renamed.
const (
	CodeDBExposed        = "db-exposed"            // a database or data store on all interfaces
	CodeAdminExposed     = "admin-exposed"         // an administration service on all interfaces
	CodeInternalExposed  = "internal-exposed"      // a cluster-internal service on all interfaces
	CodeUnknownListener  = "unknown-listener"      // no registered service on the port
	CodeAllInterfaces    = "all-interfaces"        // listens on every interface
	CodeDualStack        = "dual-stack"            // accepts IPv4 and IPv6
	CodeOtherNetns       = "other-netns"           // lives in another network namespace
	CodeLoopbackOnly     = "loopback-only"         // reachable from this machine alone
	CodeSpecificAddress  = "specific-address"      // bound to one address
	CodeOwnerHidden      = "owner-hidden"          // another user's process, not root
	CodeOwnerOutside     = "owner-outside"         // no process in our pid namespace holds it
	CodeFlood            = "flood"                 // many connections from one address
	CodeCleartext        = "cleartext"             // an unencrypted protocol
	CodeBackdoorPort     = "backdoor-port"         // a port favoured by backdoors
	CodeWorldWritableExe = "world-writable-exe"    // runs from /tmp, /var/tmp, /dev/shm
	CodeDeletedExe       = "deleted-exe"           // its executable was deleted
	CodeRootHighPort     = "root-high-port"        // root on an unprivileged port
	CodeUnusualUser      = "unusual-user"          // not the account the service usually runs as
	CodeServiceMismatch  = "service-mismatch"      // a well-known port held by a program that does not serve it
	CodeBackdoorTool     = "listening-shell"       // a shell or netcat listens: the oldest backdoor
	CodeScriptWritable   = "world-writable-script" // an interpreter runs a script from /tmp and the like
	CodePreFork          = "pre-fork"              // a root master with workers that dropped privilege
	CodeForwarded        = "forwarded"             // a forwarder holds the port for something else
	CodeUnexpected       = "unexpected-listener"   // not in the baseline
	CodeChanged          = "changed-listener"      // in the baseline, with another program or user
	CodeMissing          = "missing-listener"      // a baseline listener that is gone
	CodePortScan         = "port-scan"             // one address reached many of our ports
	CodeBehindFirewall   = "behind-firewall"       // on the network, but the firewall drops or rejects outside connections
	CodeRestricted       = "firewall-restricted"   // the firewall accepts only some sources
	CodeFirewallUnknown  = "firewall-unknown"      // what the firewall does is not known
	CodeFirewallOpen     = "firewall-open"         // a firewall rule accepts connections from anywhere
	CodeOwnerUnreadable  = "owner-unreadable"      // some processes' descriptors could not be read: one may hold it
	CodeOwnerGone        = "owner-gone"            // its owner exited during the poll
	CodeExpectedUnknown  = "expected-unknown"      // a listener no registry names, which the baseline expects
	CodeExpectedProgram  = "expected-program"      // a port's unusual program, which the baseline names for it
	CodeRetransmits      = "retransmits"           // a connection's retransmit counter keeps climbing
	CodeSendQueueStuck   = "send-queue-stuck"      // data waits in the send queue and nothing is acknowledged
	CodeUnownedExe       = "unowned-exe"           // a well-known daemon's name on a file no package installed
	CodeModifiedExe      = "modified-exe"          // the running file differs from what its package installed
	CodeMountedExe       = "mounted-exe"           // in a private mount namespace, the path leads to another file than this machine's
	CodeKernelName       = "kernel-thread-name"    // a kernel thread's name on a process with an executable
	CodeRenamedProcess   = "renamed-process"       // an interpreter, shell or netcat renamed to a daemon's name (python3 calling itself sshd)
	CodeInlineCode       = "inline-code"           // an interpreter runs code from its command line (-c, -e)
	CodeExecTool         = "exec-shell"            // a netcat-like tool hands the socket to a program (-e, EXEC:, --sh-exec)
	CodeReverseShell     = "reverse-shell"         // a shell whose standard input or output is this connection
	CodeShellConnection  = "shell-connection"      // a shell holds an established connection of its own
	CodeSocketStdio      = "socket-stdio"          // a program's standard input or output is this socket (inetd style)
	CodePivot            = "pivot"                 // a forwarder relays this connection (socat, netcat, ssh -L/-R/-D), or a socat listener every connection to another address
	CodeFileServer       = "file-server"           // an interpreter's one-line file server listens (python3 -m http.server, php -S)
	CodeClientSocket     = "client-socket"         // a daemon's own unconnected UDP socket on an ephemeral port
	CodeIdentity         = "identity"              // what the owner's executable was proven to be
	CodePublicExposed    = "public-service"        // a service meant to be reached (VPN, mail, DNS, web) on the network
	CodeUnpackagedExe    = "unpackaged-exe"        // a program no package installed, run from a home, a web root or a hidden directory
)

// FloodThreshold is how many connections from one remote address to one
// listener make portwatch point them out.
const FloodThreshold = 20

// worldWritableDirs are where anyone can drop a binary: a process started
// from one is a classic sign of a compromise.
var worldWritableDirs = []string{"/tmp/", "/var/tmp/", "/dev/shm/"}

// findings collects a socket's findings; sorted worst first at the end.
type findings struct {
	list []Finding
	t    *texts // the sentences many sockets share; nil: each written afresh
}

func (f *findings) add(r Risk, code, format string, args ...any) {
	f.list = append(f.list, Finding{Severity: r, Code: code, Text: fmt.Sprintf(format, args...)})
}

// judgeFindings lists what an analyst should think about this socket on
// this machine, worst first.
func judgeFindings(s *sockets.Socket, info *ServiceInfo, fw reach.Verdict, c *counts, role Role) []Finding {
	f := findings{t: c.texts}
	switch {
	case role == RoleClientSocket:
		f.add(RiskInfo, CodeClientSocket, "A client socket of %s: an unconnected UDP socket on ephemeral port %d, where its own queries (DNS, RADIUS, a proxy's upstream) are sent from and answered; not a service it offers.",
			ownerProgram(s), s.LPort)
		identityNote(s, &f)
	case s.IsListening():
		exposureFindings(s, info, fw, &f)
		ownerFindings(s, &f)
		floodFindings(s, c, &f)
		identityFindings(s, info, &f)
		fileServerFinding(s, fw, &f)
		userFindings(s, info, &f)
		identityNote(s, &f)
	default:
		if n := c.fromRemote(s); n >= FloodThreshold && s.Direction == sockets.Inbound {
			f.list = append(f.list, Finding{Severity: RiskMedium, Code: CodeFlood, Text: f.t.floodText(s.Remote, n)})
		}
		shellFindings(s, &f)
	}
	if n := c.scanned(s); n > 0 {
		scanFinding(s, n, &f)
	}
	if info.Tags.Has(TagCleartext) && s.State != sockets.StateTimeWait && beyondLoopback(s, fw) && role != RoleClientSocket {
		f.add(RiskMedium, CodeCleartext, "%s is a cleartext protocol: passwords and data cross the network unencrypted.", info.Name)
	}
	backdoorPortFinding(s, info, &f)
	c.texts.ownerFindings(s, info, &f)
	slices.SortStableFunc(f.list, func(x, y Finding) int { return int(y.Severity) - int(x.Severity) })
	return f.list
}

// floodSentence is what a flooding connection's finding says.
func floodSentence(remote netip.Addr, n int) string {
	return fmt.Sprintf("%s holds %d connections to this port: a flood, a scan or a very busy client.", remote, n)
}

func exposureFindings(s *sockets.Socket, info *ServiceInfo, fw reach.Verdict, f *findings) {
	if s.Exposure() != sockets.ExposureLoopback && firewallFindings(s, info, fw, f) {
		return // the firewall's verdict says more than the bind address
	}
	switch s.Exposure() {
	case sockets.ExposureAll:
		switch {
		case info.Tags.Has(TagPublic) && (info.Tags.Has(TagDatabase) || info.Tags.Has(TagAdmin) || info.Tags.Has(TagInternal)):
			// A VPN endpoint is an entry to the network, and meant to be
			// reached: binding it to loopback would switch it off.
			f.add(RiskLow, CodePublicExposed, "%s is meant to be reached from the network and listens on all interfaces: restrict who may reach it (a firewall rule for the networks it serves), keep it patched and its authentication strong.", info.Name)
		case info.Tags.Has(TagDatabase):
			f.add(RiskHigh, CodeDBExposed, "%s is exposed on all interfaces: anyone who can reach this machine can try it. Bind it to 127.0.0.1 or firewall it.", serviceKind(info))
		case info.Tags.Has(TagAdmin):
			f.add(RiskHigh, CodeAdminExposed, "%s is exposed on all interfaces: anyone who can reach this machine can try it. Bind it to 127.0.0.1 or firewall it.", serviceKind(info))
		case info.Tags.Has(TagInternal):
			f.add(RiskHigh, CodeInternalExposed, "%s is exposed on all interfaces: anyone who can reach this machine can try it. Bind it to 127.0.0.1 or firewall it.", serviceKind(info))
		case info.Source == NotIdentified:
			f.add(RiskHigh, CodeUnknownListener, "An unknown service listens on all interfaces: find out what it is.")
		case info.Tags.Has(TagPublic):
			f.add(RiskLow, CodeAllInterfaces, "Listens on all interfaces: reachable from every network this machine is on, unless a firewall says otherwise. %s is meant to be reached: restrict who may reach it with a firewall rather than where it listens.", info.Name)
		default:
			f.add(RiskLow, CodeAllInterfaces, "Listens on all interfaces: reachable from every network this machine is on, unless a firewall says otherwise.")
		}
		if s.DualStack {
			f.add(RiskInfo, CodeDualStack, "Dual-stack listener: it accepts both IPv4 and IPv6 clients; check both firewalls.")
		}
		if s.Netns != "" && s.Netns != sockets.HostNetns {
			f.add(RiskInfo, CodeOtherNetns, "It lives in network namespace %s: all of that namespace's interfaces, reachable from the host and beyond only as the container's network (bridges, published ports) allows.", s.Netns)
		}
	case sockets.ExposureLoopback:
		f.add(RiskInfo, CodeLoopbackOnly, "Loopback only: reachable from this machine alone.")
	default:
		f.add(RiskInfo, CodeSpecificAddress, "Bound to %s only: reachable through that address's network.", s.Local)
	}
	if info.Source == NotIdentified && s.Exposure() != sockets.ExposureAll {
		f.add(RiskMedium, CodeUnknownListener, "Nothing registered uses port %d: an unexpected listener may be a backdoor. Identify the process.", s.LPort)
	}
}

// firewallFindings judges a listener by what the firewall does to a new
// connection from outside, when that is known: a database on all
// interfaces that the firewall drops is not exposed to the network (but
// should still be bound to loopback: defence in depth), and an unknown
// listener behind it is still flagged, lower. It reports whether it said
// what exposure there is.
func firewallFindings(s *sockets.Socket, info *ServiceInfo, fw reach.Verdict, f *findings) bool {
	where := "on all interfaces"
	if s.Exposure() == sockets.ExposureSpecific {
		where = "on " + s.Local.String()
	}
	sensitive := !info.Tags.Has(TagPublic) && (info.Tags.Has(TagDatabase) || info.Tags.Has(TagAdmin) || info.Tags.Has(TagInternal))
	switch fw.Kind {
	case reach.Filtered, reach.Closed:
		what := map[reach.Kind]string{reach.Filtered: "drops", reach.Closed: "rejects"}[fw.Kind]
		switch {
		case sensitive:
			f.add(RiskMedium, CodeBehindFirewall, "%s listens %s, but the firewall %s new connections from outside (%s): not exposed to the network. Bind it to 127.0.0.1 anyway: a firewall rule can change, a bind address stays.", serviceKind(info), where, what, fw.Rule)
		case info.Source == NotIdentified:
			f.add(RiskMedium, CodeUnknownListener, "An unknown service listens %s; the firewall %s new connections from outside (%s), but find out what it is.", where, what, fw.Rule)
		default:
			f.add(RiskInfo, CodeBehindFirewall, "Listens %s, but the firewall %s new connections from outside (%s): reachable from this machine only.", where, what, fw.Rule)
		}
		return true
	case reach.Restricted:
		risk := RiskLow
		if sensitive || info.Source == NotIdentified {
			risk = RiskMedium
		}
		code := CodeRestricted
		if info.Source == NotIdentified {
			code = CodeUnknownListener
		}
		f.add(risk, code, "Listens %s; the firewall accepts new connections only from %s (%s).", where, sourcesWords(fw), fw.Rule)
		return true
	case reach.Unknown:
		f.add(RiskInfo, CodeFirewallUnknown, "What the firewall does to connections from outside is not known: %s.", fw.Reason)
	case reach.Open:
		if fw.Rule != "" {
			f.add(RiskInfo, CodeFirewallOpen, "The firewall accepts new connections from anywhere (%s).", fw.Rule)
		}
	}
	return false
}

// sourcesWords lists a restricted verdict's sources: "10.0.0.0/8 and
// 192.168.1.0/24", or "every address but 10.9.9.9/32".
func sourcesWords(fw reach.Verdict) string {
	var parts []string
	for _, p := range fw.Sources {
		parts = append(parts, p.String())
	}
	if len(fw.Except) > 0 {
		var ex []string
		for _, p := range fw.Except {
			ex = append(ex, p.String())
		}
		parts = append(parts, "every address but "+strings.Join(ex, ", "))
	}
	if len(parts) == 0 {
		return "some sources"
	}
	return strings.Join(parts, " and ")
}

func serviceKind(info *ServiceInfo) string {
	switch {
	case info.Tags.Has(TagDatabase):
		return fmt.Sprintf("A database or data store (%s)", info.Name)
	case info.Tags.Has(TagAdmin):
		return fmt.Sprintf("An administration service (%s)", info.Name)
	}
	return fmt.Sprintf("An internal cluster service (%s)", info.Name)
}

func ownerFindings(s *sockets.Socket, f *findings) {
	switch s.OwnerStatus {
	case sockets.OwnerHidden:
		f.add(RiskMedium, CodeOwnerHidden, "The owning process is hidden from this user (uid %d holds it): run portwatch as root to see it.", s.UID)
	case sockets.OwnerOutside:
		f.add(RiskLow, CodeOwnerOutside, "No process in portwatch's view holds this socket: its owner runs outside this pid namespace (a container or sandbox).")
	case sockets.OwnerUnreadable:
		// As grave as hidden: something holds a port and cannot be named.
		f.add(RiskMedium, CodeOwnerUnreadable, "No process portwatch could read holds this socket, and one whose descriptors could not be read may: %s.%s", s.Unreadable, unreadableAdvice(s.Unreadable, " Run portwatch as root, with CAP_SYS_PTRACE, to see it."))
	case sockets.OwnerGone:
		f.add(RiskLow, CodeOwnerGone, "Its owner exited while portwatch was reading the machine: a short-lived listener, or a process that just ended. The next poll looks again.")
	}
}

func floodFindings(s *sockets.Socket, c *counts, f *findings) {
	remotes := c.perRemote[portOf(s)]
	addrs := make([]string, 0)
	for remote, n := range remotes {
		if n >= FloodThreshold {
			addrs = append(addrs, fmt.Sprintf("%d connections come from %s alone: a flood, a scan or a very busy client.", n, remote))
		}
	}
	slices.Sort(addrs) // map order is random: the same poll must read the same
	for _, text := range addrs {
		f.add(RiskMedium, CodeFlood, "%s", text)
	}
}

func processFindings(s *sockets.Socket, p *sockets.Process, info *ServiceInfo, f *findings) {
	for _, dir := range worldWritableDirs {
		if strings.HasPrefix(p.Exe, dir) {
			f.add(RiskHigh, CodeWorldWritableExe, "%s (pid %d) runs from %s, a world-writable place where attackers drop their tools.", p.Name, p.PID, p.Exe)
		} else if isInterpreter(exeName(p)) && strings.Contains(p.Cmdline, " "+dir) {
			f.add(RiskHigh, CodeScriptWritable, "%s (pid %d) runs a script from %s, a world-writable place where attackers drop their tools: %s", p.Name, p.PID, dir, p.Cmdline)
		}
	}
	if p.ExeDeleted {
		f.add(RiskHigh, CodeDeletedExe, "%s (pid %d) runs a deleted executable (%s): an upgrade not yet restarted, or malware hiding its file.", p.Name, p.PID, p.Exe)
	}
}

// remoteAccessPorts are the well-known ports of remote access besides the
// privileged ones: a program in disguise there is as grave as on port 22.
var remoteAccessPorts = map[uint16]bool{2222: true, 3389: true, 5900: true, 5901: true, 5985: true, 5986: true}

// identityFindings compares the program with the port: a well-known port
// held by a program that does not serve its protocol is the classic
// disguise of a backdoor; a shell or netcat listening is a backdoor.
func identityFindings(s *sockets.Socket, info *ServiceInfo, f *findings) {
	if len(s.Owners) == 0 {
		return // nothing to compare: the owner cannot be seen
	}
	p := s.Owners[0]
	name := exeName(p)
	if p.Identity.Disproven() && claimedName(p) != "" {
		return // provenanceFindings says it: a well-known name on a file no package installed
	}
	if to := relayTarget(p); to != "" {
		f.add(RiskHigh, CodePivot, "%s (pid %d) listens on port %d and relays every connection to %s: a pivot through this machine, carrying whoever reaches the port to that address as if from here. Find who started it. %s", name, p.PID, s.LPort, to, p.Cmdline)
	} else if backdoorTools[name] {
		f.add(RiskHigh, CodeBackdoorTool, "%s (pid %d) listens on port %d: a shell or netcat waiting for connections is the oldest backdoor there is. Find who started it.", name, p.PID, s.LPort)
		return
	}
	if fwd, why := forwarderOf(s); fwd != "" {
		f.add(RiskInfo, CodeForwarded, "The port is held by %s: %s. What answers is the service behind it.", fwd, why)
		return
	}
	expected := servedBy(s.LPort)
	if len(expected) == 0 || info.Source == ByPortAndProgram {
		return
	}
	prog, _ := programOf(s)
	if prog == nil && webPorts[s.LPort] {
		return // any program may serve HTTP; only a known program of another protocol is out of place there
	}
	names := make([]string, 0, len(expected))
	for _, e := range expected {
		if !slices.Contains(names, e.name) && len(names) < 4 {
			names = append(names, e.name)
		}
	}
	risk := RiskMedium
	if s.LPort < 1024 || remoteAccessPorts[s.LPort] {
		risk = RiskHigh
	}
	port := lookupName(s)
	what := name
	if p.Exe != "" {
		what += " (" + p.Exe + ")"
	}
	if prog != nil {
		what += ", which serves " + info.Name
	}
	f.add(risk, CodeServiceMismatch, "Port %d is %s's, but the program is %s: a service in disguise? %s would be expected here.", s.LPort, port, what, strings.Join(names, " or "))
}

// lookupName is the catalog's name of a socket's local port.
func lookupName(s *sockets.Socket) string {
	if e := catalogEntry(s.Proto, s.LPort); e != nil {
		return e.Name
	}
	return fmt.Sprintf("port %d", s.LPort)
}

// userFindings judges privilege across every owner: a pre-fork server's
// master runs as root to bind the port and its workers drop privilege,
// which is the correct pattern, not a finding against it.
func userFindings(s *sockets.Socket, info *ServiceInfo, f *findings) {
	var root, others []*sockets.Process
	for _, p := range s.Owners {
		switch {
		case p.UID == 0:
			root = append(root, p)
		case p.UID > 0:
			others = append(others, p)
		}
	}
	switch {
	case len(root) > 0 && len(others) > 0:
		f.add(RiskInfo, CodePreFork, "%s (pid %d) runs as root and %s as %s: the usual pre-fork pattern, where the master binds the port and the processes that talk to clients drop privilege.",
			root[0].Name, root[0].PID, countOf(len(others), "worker"), others[0].User)
	case len(root) > 0 && s.LPort >= 1024:
		f.add(RiskLow, CodeRootHighPort, "%s runs as root on unprivileged port %d: a service that needs no privilege should drop it.", root[0].Name, s.LPort)
	}
	if info.UsualUser == "" || info.Source == ByPort && len(servedBy(info.Port)) > 0 {
		return // no usual account, or a program that is not the service's own (a mismatch says so)
	}
	for _, p := range s.Owners {
		if p.User == "" || usualUser(info.UsualUser, p.User) {
			return
		}
	}
	if len(s.Owners) > 0 {
		p := s.Owners[0]
		f.add(RiskLow, CodeUnusualUser, "%s usually runs as %s; here it runs as %q.", info.Name, strings.ReplaceAll(info.UsualUser, ",", " or "), p.User)
	}
}

// countOf is "1 worker", "3 workers".
func countOf(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// worstRisk is the badge a row shows: its worst finding, or the service's
// own risk where the service can be reached. A database on loopback is not
// a high risk, and an outbound connection does not carry the risk of
// running the remote service: for those only the findings count.
func worstRisk(s *sockets.Socket, info *ServiceInfo, fw reach.Verdict, f []Finding) Risk {
	r := RiskInfo
	if s.IsListening() {
		r = info.Risk
		switch {
		case s.Exposure() == sockets.ExposureLoopback, fw.Kind == reach.Filtered, fw.Kind == reach.Closed:
			r = min(r, RiskLow) // nothing from outside reaches it
		case fw.Kind == reach.Restricted:
			r = min(r, RiskMedium)
		}
	}
	if len(f) > 0 && f[0].Severity > r {
		r = f[0].Severity
	}
	return r
}

// OwnerAbsence explains, for people, why a socket shows no process.
func OwnerAbsence(s *sockets.Socket) string {
	switch s.OwnerStatus {
	case sockets.OwnerHidden:
		return fmt.Sprintf("Hidden: the socket belongs to uid %d and portwatch is not root. Run portwatch as root to see the process.", s.UID)
	case sockets.OwnerOutside:
		return "No process in portwatch's view holds this socket: its owner runs outside this pid namespace (a container, a sandbox or the host seen from a container)."
	case sockets.OwnerUnreadable:
		return fmt.Sprintf("Unreadable: no process portwatch could read holds this socket, and one whose descriptors could not be read may: %s.%s", s.Unreadable, unreadableAdvice(s.Unreadable, " Root with CAP_SYS_PTRACE may read them (a container drops it; a non-dumpable process needs it)."))
	case sockets.OwnerGone:
		return "Gone: its owner exited while portwatch was reading the machine (the socket was listed, then its process was no longer there). The next poll looks again."
	}
	return "No process owns this socket: the kernel holds it (TIME_WAIT and half-open handshakes belong to no process)."
}

// baselineFindings adds what the baseline says of a listener, worst first
// kept: an unexpected or changed listener is HIGH, a missing one MEDIUM.
func baselineFindings(s *sockets.Socket, j baseline.Judgement, b *baseline.Baseline, f []Finding) []Finding {
	var add Finding
	switch j.Status {
	case baseline.Unexpected:
		add = Finding{Severity: RiskHigh, Code: CodeUnexpected, Text: fmt.Sprintf("Not in the baseline (%s): nothing was listening on %s port %d when it was saved. Find out what opened it; if it belongs, save the baseline again (b, or portwatch baseline save).",
			b.Path, s.Proto, s.LPort)}
	case baseline.Changed:
		add = Finding{Severity: RiskHigh, Code: CodeChanged, Text: fmt.Sprintf("The baseline (%s line %d) expects %s as %s on this port; now it is %s.",
			b.Path, j.Entry.Line, j.Entry.Program, j.Entry.User, ownerWords(s))}
	case baseline.Expected:
		// An admin's baseline naming a listener portwatch cannot name is
		// evidence: the "may be a backdoor" alarm gives way to a note.
		// So is a line that names the very program on a port another
		// program's registry claims: "a service in disguise?" is asked
		// and answered (a stand-in, a fork the catalog does not know).
		i := slices.IndexFunc(f, func(x Finding) bool { return x.Code == CodeUnknownListener })
		if i >= 0 {
			f = slices.Delete(slices.Clone(f), i, i+1)
			add = Finding{Severity: RiskInfo, Code: CodeExpectedUnknown, Text: fmt.Sprintf("No registered service uses port %d, but the baseline (%s line %d) expects %s here: someone said it belongs.",
				s.LPort, b.Path, j.Entry.Line, j.Entry.Program)}
			break
		}
		i = slices.IndexFunc(f, func(x Finding) bool { return x.Code == CodeServiceMismatch })
		if i < 0 || j.Entry.Program == baseline.Any {
			return f
		}
		f = slices.Delete(slices.Clone(f), i, i+1)
		add = Finding{Severity: RiskInfo, Code: CodeExpectedProgram, Text: fmt.Sprintf("Port %d is %s's, and its program is not one that serves it, but the baseline (%s line %d) names %s for this port: someone said it belongs.",
			s.LPort, lookupName(s), b.Path, j.Entry.Line, j.Entry.Program)}
	case baseline.Missing:
		add = Finding{Severity: RiskMedium, Code: CodeMissing, Text: fmt.Sprintf("The baseline (%s line %d) expects %s listening here; nothing is: the service is down, moved, or was replaced.",
			b.Path, j.Entry.Line, j.Entry.Program)}
	default:
		return f
	}
	f = append([]Finding{add}, f...)
	slices.SortStableFunc(f, func(x, y Finding) int { return int(y.Severity) - int(x.Severity) })
	return f
}

// ownerWords is "/usr/bin/python3 (pid 812) as alice", the first owner as
// a baseline would name it.
func ownerWords(s *sockets.Socket) string {
	p := s.Process()
	if p == nil {
		return "an unseen process"
	}
	prog := p.Exe
	if prog == "" {
		prog = p.Name
	}
	return fmt.Sprintf("%s (pid %d) as %s", prog, p.PID, p.User)
}

// beyondLoopback: what crosses this socket can be read on a network. A
// listener on loopback, or one the firewall keeps from outside, and a
// connection between two loopback addresses carry nothing a wire sees.
func beyondLoopback(s *sockets.Socket, fw reach.Verdict) bool {
	if s.IsListening() {
		return s.Exposure() != sockets.ExposureLoopback && fw.Kind != reach.Filtered && fw.Kind != reach.Closed
	}
	return !s.Local.Unmap().IsLoopback() || !s.Remote.Unmap().IsLoopback()
}

// backdoorPortFinding: a port backdoors favour is a finding only when it
// is not held by the packaged daemon whose port it also is (an IRC daemon
// under its own account on 6667). Another packaged program there is worth
// a look, not an alarm; anything else is HIGH.
func backdoorPortFinding(s *sockets.Socket, info *ServiceInfo, f *findings) {
	if !info.Tags.Has(TagBackdoor) {
		return
	}
	if info.Source == ByPortAndProgram {
		if _, p := programOf(s); p != nil && (p.Identity == nil || p.Identity.Proven()) {
			return
		}
	}
	if p := s.Process(); p != nil && p.Identity != nil && p.Identity.Proof == sockets.ProofPackage && !backdoorTools[exeName(p)] && !isInterpreter(exeName(p)) {
		f.add(RiskMedium, CodeBackdoorPort, "Port %d is a favourite of backdoors and attack tools; %s from %s holds it: make sure it is meant to.", info.Port, exeName(p), p.Identity.PackageWords())
		return
	}
	f.add(RiskHigh, CodeBackdoorPort, "Port %d is a favourite of backdoors and attack tools.", info.Port)
}

// usualUser reports whether user is one of usual's accounts: the
// catalog lists several, comma-separated, where the distributions'
// packages differ (varnish's "varnish,vcache").
func usualUser(usual, user string) bool {
	for usual != "" {
		var one string
		one, usual, _ = strings.Cut(usual, ",")
		if one == user {
			return true
		}
	}
	return false
}

// ownerProgram names a socket's first owner for a sentence: "unbound (pid
// 812)".
func ownerProgram(s *sockets.Socket) string {
	p := s.Process()
	if p == nil {
		return "its owner"
	}
	return fmt.Sprintf("%s (pid %d)", exeName(p), p.PID)
}

// unreadableAdvice is the advice to get CAP_SYS_PTRACE, unless portwatch held it already: then the
// reasons in the list say so and what else is in the way, and the advice would send root after
// what it has.
func unreadableAdvice(u *sockets.UnreadableOwners, advice string) string {
	if u != nil && u.Ptrace {
		return ""
	}
	return advice
}
