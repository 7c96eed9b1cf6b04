package sockets

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// Finding is one observation about a socket in its context, for an analyst.
type Finding struct {
	Risk Risk   `json:"risk"`
	Text string `json:"text"`
}

// FloodThreshold is how many connections from one remote address to one
// listener make portwatch point them out.
const FloodThreshold = 20

// Analysis is computed once per snapshot: the counts that findings and the
// Listening tab need, so no view walks the whole snapshot per row.
type Analysis struct {
	kb        *Knowledge
	conns     map[listenerKey]int                // established inbound connections per listener port
	perRemote map[listenerKey]map[netip.Addr]int // ... and per remote address
	perPID    map[int32]int                      // sockets each process holds
	floods    int                                // remote addresses at FloodThreshold or more
}

// Analyze indexes a snapshot's connections by the listener they came through.
func Analyze(snap *Snapshot, kb *Knowledge) *Analysis {
	a := &Analysis{kb: kb, conns: map[listenerKey]int{}, perRemote: map[listenerKey]map[netip.Addr]int{}, perPID: map[int32]int{}}
	if snap == nil {
		return a
	}
	for i := range snap.Sockets {
		s := &snap.Sockets[i]
		for _, p := range s.Owners {
			a.perPID[p.PID]++
		}
		if s.Kind() != KindEstablished || s.Direction != Inbound {
			continue
		}
		k := listenerKey{netns: s.NetnsInode, proto: s.Proto, port: s.LPort}
		a.conns[k]++
		if a.perRemote[k] == nil {
			a.perRemote[k] = map[netip.Addr]int{}
		}
		a.perRemote[k][s.Remote]++
	}
	for _, remotes := range a.perRemote {
		for _, n := range remotes {
			if n >= FloodThreshold {
				a.floods++
			}
		}
	}
	return a
}

// Knowledge is the knowledge base the analysis uses.
func (a *Analysis) Knowledge() *Knowledge { return a.kb }

// Connections counts the established connections that came in on a
// listener's port.
func (a *Analysis) Connections(s *Socket) int {
	return a.conns[listenerKey{netns: s.NetnsInode, proto: s.Proto, port: s.LPort}]
}

// Flooded reports whether an inbound connection's remote address holds
// FloodThreshold or more connections to the same listener port.
func (a *Analysis) Flooded(s *Socket) bool {
	return a.floods > 0 && s.Direction == Inbound && a.perRemote[listenerKey{netns: s.NetnsInode, proto: s.Proto, port: s.LPort}][s.Remote] >= FloodThreshold
}

// SocketsOf counts the sockets a process holds.
func (a *Analysis) SocketsOf(pid int32) int { return a.perPID[pid] }

// worldWritableDirs are where anyone can drop a binary: a process started
// from one is a classic sign of a compromise.
var worldWritableDirs = []string{"/tmp/", "/var/tmp/", "/dev/shm/"}

// Findings lists what an analyst should think about this socket on this
// machine, worst first.
func (a *Analysis) Findings(s *Socket) []Finding {
	info := a.kb.ForSocket(s)
	var f []Finding
	add := func(r Risk, format string, args ...any) {
		f = append(f, Finding{r, fmt.Sprintf(format, args...)})
	}
	if s.IsListening() {
		a.exposureFindings(s, info, add)
		a.ownerFindings(s, add)
		a.floodFindings(s, add)
	} else if a.Flooded(s) {
		add(RiskMedium, "%s holds %d connections to this port: a flood, a scan or a very busy client.",
			s.Remote, a.perRemote[listenerKey{netns: s.NetnsInode, proto: s.Proto, port: s.LPort}][s.Remote])
	}
	if info.Tags.Has(TagCleartext) && s.State != StateTimeWait {
		add(RiskMedium, "%s is a cleartext protocol: passwords and data cross the network unencrypted.", info.Name)
	}
	if info.Tags.Has(TagBackdoor) {
		add(RiskHigh, "Port %d is a favourite of backdoors and attack tools.", info.Port)
	}
	for _, p := range s.Owners {
		a.processFindings(s, p, info, add)
	}
	slices.SortStableFunc(f, func(x, y Finding) int { return int(y.Risk) - int(x.Risk) })
	return f
}

func (a *Analysis) exposureFindings(s *Socket, info ServiceInfo, add func(Risk, string, ...any)) {
	switch s.Exposure() {
	case ExposureAll:
		switch {
		case info.Tags.Has(TagDatabase) || info.Tags.Has(TagAdmin) || info.Tags.Has(TagInternal):
			add(RiskHigh, "%s is exposed on all interfaces: anyone who can reach this machine can try it. Bind it to 127.0.0.1 or firewall it.", serviceKind(info))
		case info.Origin == Unknown:
			add(RiskHigh, "An unknown service listens on all interfaces: find out what it is.")
		default:
			add(RiskLow, "Listens on all interfaces: reachable from every network this machine is on, unless a firewall says otherwise.")
		}
		if s.DualStack {
			add(RiskInfo, "Dual-stack listener: it accepts both IPv4 and IPv6 clients; check both firewalls.")
		}
		if s.Netns != "" && s.Netns != HostNetns {
			add(RiskInfo, "It lives in network namespace %s: all of that namespace's interfaces, reachable from the host and beyond only as the container's network (bridges, published ports) allows.", s.Netns)
		}
	case ExposureLoopback:
		add(RiskInfo, "Loopback only: reachable from this machine alone.")
	default:
		add(RiskInfo, "Bound to %s only: reachable through that address's network.", s.Local)
	}
	if info.Origin == Unknown && s.Exposure() != ExposureAll {
		add(RiskMedium, "Nothing registered uses port %d: an unexpected listener may be a backdoor. Identify the process.", s.LPort)
	}
}

func serviceKind(info ServiceInfo) string {
	switch {
	case info.Tags.Has(TagDatabase):
		return fmt.Sprintf("A database or data store (%s)", info.Name)
	case info.Tags.Has(TagAdmin):
		return fmt.Sprintf("An administration service (%s)", info.Name)
	}
	return fmt.Sprintf("An internal cluster service (%s)", info.Name)
}

func (a *Analysis) ownerFindings(s *Socket, add func(Risk, string, ...any)) {
	switch s.OwnerStatus {
	case OwnerHidden:
		add(RiskMedium, "The owning process is hidden from this user (uid %d holds it): run portwatch as root to see it.", s.UID)
	case OwnerOutside:
		add(RiskLow, "No process in portwatch's view holds this socket: its owner runs outside this pid namespace (a container or sandbox).")
	}
}

func (a *Analysis) floodFindings(s *Socket, add func(Risk, string, ...any)) {
	for remote, n := range a.perRemote[listenerKey{netns: s.NetnsInode, proto: s.Proto, port: s.LPort}] {
		if n >= FloodThreshold {
			add(RiskMedium, "%d connections come from %s alone: a flood, a scan or a very busy client.", n, remote)
		}
	}
}

func (a *Analysis) processFindings(s *Socket, p *Process, info ServiceInfo, add func(Risk, string, ...any)) {
	for _, dir := range worldWritableDirs {
		if strings.HasPrefix(p.Exe, dir) {
			add(RiskHigh, "%s (pid %d) runs from %s, a world-writable place where attackers drop their tools.", p.Name, p.PID, p.Exe)
		}
	}
	if p.ExeDeleted {
		add(RiskHigh, "%s (pid %d) runs a deleted executable (%s): an upgrade not yet restarted, or malware hiding its file.", p.Name, p.PID, p.Exe)
	}
	if !s.IsListening() {
		return
	}
	if p.UID == 0 && s.LPort >= 1024 {
		add(RiskLow, "%s runs as root on unprivileged port %d: a service that needs no privilege should drop it.", p.Name, s.LPort)
	}
	if info.UsualUser != "" && p.User != "" && p.User != info.UsualUser && p.UID >= 0 {
		add(RiskLow, "%s usually runs as %q; here it runs as %q.", info.Name, info.UsualUser, p.User)
	}
}

// WorstRisk is the badge a row shows: its worst finding, or the service's
// own risk where the service can be reached. A database on loopback is not
// a high risk, and an outbound connection does not carry the risk of
// running the remote service: for those only the findings count.
func WorstRisk(s *Socket, info ServiceInfo, findings []Finding) Risk {
	r := RiskInfo
	if s.IsListening() {
		r = info.Risk
		if s.Exposure() == ExposureLoopback {
			r = min(r, RiskLow)
		}
	}
	if len(findings) > 0 && findings[0].Risk > r {
		r = findings[0].Risk
	}
	return r
}
