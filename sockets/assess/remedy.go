package assess

import (
	"fmt"
	"strings"
	"sync"

	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/reach"
)

// bindSetting is where a daemon of the catalog is told its address: the
// remedy for a data store on the network is to bind it to loopback there.
type bindSetting struct {
	setting string // the line to write
	where   string // the file it goes in, as the distribution ships it
}

// bindSettings are the address settings of the programs whose defaults
// are exposed most (each daemon's own documentation).
var bindSettings = map[string]bindSetting{
	"redis-server":  {"bind 127.0.0.1 -::1", "/etc/redis/redis.conf"},
	"mysqld":        {"bind-address = 127.0.0.1", "/etc/mysql/my.cnf ([mysqld])"},
	"postgres":      {"listen_addresses = 'localhost'", "postgresql.conf"},
	"memcached":     {"-l 127.0.0.1 (and -U 0: no UDP)", "/etc/memcached.conf"},
	"mongod":        {"net.bindIp: 127.0.0.1", "/etc/mongod.conf"},
	"elasticsearch": {"network.host: 127.0.0.1", "elasticsearch.yml"},
	"opensearch":    {"network.host: 127.0.0.1", "opensearch.yml"},
	"rabbitmq":      {"listeners.tcp.default = 127.0.0.1:5672", "/etc/rabbitmq/rabbitmq.conf"},
	"epmd":          {"ERL_EPMD_ADDRESS=127.0.0.1", "the environment of epmd's unit"},
	"cupsd":         {"Listen localhost:631", "/etc/cups/cupsd.conf"},
	"named":         {"controls { inet 127.0.0.1 port 953 allow { localhost; }; };", "/etc/bind/named.conf"},
	"unbound":       {"control-interface: 127.0.0.1", "/etc/unbound/unbound.conf"},
	"tor":           {"SocksPort 127.0.0.1:9050 and ControlPort 127.0.0.1:9051", "/etc/tor/torrc"},
	"squid":         {"http_access deny all after the allowed networks' rules", "/etc/squid/squid.conf"},
	"tomcat":        {`<Server port="-1" ...> (no shutdown port) and address="127.0.0.1" on internal connectors`, "server.xml"},
	"varnishd":      {"-T localhost:6082", "varnish's unit (ExecStart)"},
	"rpc.statd":     {"a fixed port (STATDOPTS=--port 32765) to firewall", "/etc/default/nfs-common"},
	"rpc.mountd":    {"a fixed port (RPCMOUNTDOPTS=--port 32767) to firewall", "/etc/default/nfs-kernel-server"},
}

// addRemedies gives each finding that has one a remedy, from what
// portwatch knows of the socket: the owner's systemd unit, the daemon's
// bind setting, or a firewall rule in the syntax of the firewall the
// machine runs (nftables; iptables where the ruleset is legacy).
func addRemedies(s *sockets.Socket, info *ServiceInfo, fw reach.Verdict, f []Finding, t *texts) {
	for i := range f {
		f[i].Remedy = remedyFor(f[i].Code, s, info, fw, t)
	}
}

func remedyFor(code string, s *sockets.Socket, info *ServiceInfo, fw reach.Verdict, t *texts) string {
	switch code {
	case CodeDBExposed, CodeAdminExposed, CodeInternalExposed, CodeBehindFirewall:
		if b, ok := bindSettingOf(s); ok {
			return fmt.Sprintf("set %s in %s, then restart it%s", b.setting, b.where, restartWords(s))
		}
		return firewallRule(s, fw, "drop")
	case CodePublicExposed, CodeAllInterfaces:
		return firewallRule(s, fw, "restrict")
	case CodeUnknownListener, CodeBackdoorPort, CodeBackdoorTool, CodeUnownedExe, CodeModifiedExe, CodeKernelName,
		CodeInlineCode, CodeExecTool, CodeReverseShell, CodeShellConnection, CodePivot, CodeWorldWritableExe,
		CodeScriptWritable, CodeServiceMismatch, CodeUnexpected, CodeUnpackagedExe, CodeFileServer, CodeRenamedProcess:
		return t.stopWords(s, code)
	case CodeDeletedExe:
		if u := serviceUnit(s); u != "" {
			return "systemctl restart " + u + " (an upgrade not restarted); if no upgrade explains it, save /proc/PID/exe first"
		}
	}
	return ""
}

// bindSettingOf finds the address setting of the program holding s.
func bindSettingOf(s *sockets.Socket) (bindSetting, bool) {
	if prog, _ := programOf(s); prog != nil {
		b, ok := bindSettings[prog.name]
		return b, ok
	}
	return bindSetting{}, false
}

// serviceUnit is the systemd service the socket's first owner runs in, or
// "" (a user's session, a scope, no systemd).
func serviceUnit(s *sockets.Socket) string {
	p := s.Process()
	if p == nil || !strings.HasSuffix(p.Unit, ".service") || strings.HasPrefix(p.Unit, "user@") {
		return ""
	}
	return p.Unit
}

func restartWords(s *sockets.Socket) string {
	if u := serviceUnit(s); u != "" {
		return " (systemctl restart " + u + ")"
	}
	return ""
}

// stopWords is the remedy for a program that should not hold the socket:
// stop its unit for good, or (outside a service) keep the evidence and end
// the process.
func stopWords(s *sockets.Socket, code string) string {
	p := s.Process()
	if p == nil {
		return ""
	}
	keep := fmt.Sprintf("cp /proc/%d/exe /root/evidence-%d.bin; cat /proc/%d/cmdline > /root/evidence-%d.cmdline", p.PID, p.PID, p.PID, p.PID)
	if u := serviceUnit(s); u != "" && code != CodeReverseShell && code != CodeShellConnection {
		return fmt.Sprintf("if it is not meant to run: systemctl disable --now %s (keep the evidence first: %s)", u, keep)
	}
	return fmt.Sprintf("keep the evidence (%s), then end it: kill %d (K in the monitor)", keep, p.PID)
}

// firewallRule is a rule for the machine's firewall, in the syntax of
// the tool that decides the port (remedyfw.go): "drop" keeps everyone but
// this machine from the port, "restrict" admits only the networks the
// service is for (to be named in place of 192.0.2.0/24). A dual-stack
// listener whose families are decided by different rules gets one for
// each family that admits it.
func firewallRule(s *sockets.Socket, fw reach.Verdict, how string) string {
	if !s.IsListening() || s.Exposure() == sockets.ExposureLoopback || fw.Kind == reach.Filtered || fw.Kind == reach.Closed {
		return ""
	}
	legacy := fw.Reason == reach.ReasonLegacy
	fams, v6 := []reach.Verdict{fw}, []bool{s.Local.Unmap().Is6()}
	switch {
	case len(fw.ByFamily) == 2:
		fams, v6 = fw.ByFamily, []bool{false, true}
	case s.DualStack:
		fams, v6 = []reach.Verdict{fw, fw}, []bool{false, true}
	}
	targets := make([]fwTarget, len(fams))
	for i, f := range fams {
		targets[i] = targetOf(f, legacy || f.Reason == reach.ReasonLegacy, v6[i])
	}
	// A family no rule decides (no firewall of its own) takes the other's
	// tool where that covers it too: ip6tables beside iptables.
	if len(targets) == 2 && targets[1].tool == "" && targets[0].tool == "iptables" {
		targets[1] = fwTarget{tool: "iptables", table: "filter", chain: "INPUT", v6: true}
	}
	// No rule known for either family (no firewall read, none deciding): the
	// general advice once, as for one family.
	if len(targets) == 2 && targets[0].tool == "" && targets[1].tool == "" && len(fw.ByFamily) == 0 {
		fams, targets = fams[:1], targets[:1]
	}
	// firewalld's zone holds both families: one command for both.
	if len(targets) == 2 && targets[0].tool == "firewalld" && exposed(fams[0]) && exposed(fams[1]) {
		if t := targets[1]; t.tool == "firewalld" && t.zone == targets[0].zone && t.service == targets[0].service {
			targets[0].both, fams, targets = true, fams[:1], targets[:1]
		}
	}
	var parts, labels []string
	for i, f := range fams {
		if !exposed(f) {
			continue
		}
		r := cachedRule(ruleKey{s.Proto, s.LPort, how, targets[i]})
		if len(parts) > 0 && parts[len(parts)-1] == r {
			continue
		}
		parts, labels = append(parts, r), append(labels, [2]string{"IPv4: ", "IPv6: "}[min(i, 1)])
	}
	if len(parts) < 2 {
		return strings.Join(parts, "")
	}
	for i := range parts {
		parts[i] = labels[i] + parts[i]
	}
	return strings.Join(parts, "; ")
}

// exposed: a verdict that admits someone (or may: unknown).
func exposed(v reach.Verdict) bool { return v.Kind != reach.Filtered && v.Kind != reach.Closed }

// cachedRule is the rule for k, made once: every listener is judged every
// poll, and a port's rule does not change.
func cachedRule(k ruleKey) string {
	rules.Lock()
	defer rules.Unlock()
	if r, ok := rules.m[k]; ok {
		return r
	}
	if len(rules.m) >= 4096 {
		rules.m = map[ruleKey]string{}
	}
	r := formatFor(k.target, k.proto.String(), k.port, k.how)
	rules.m[k] = r
	return r
}

var rules = struct {
	sync.Mutex
	m map[ruleKey]string
}{m: map[ruleKey]string{}}

type ruleKey struct {
	proto  sockets.Proto
	port   uint16
	how    string
	target fwTarget
}
