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
func addRemedies(s *sockets.Socket, info *ServiceInfo, fw reach.Verdict, f []Finding) {
	for i := range f {
		f[i].Remedy = remedyFor(f[i].Code, s, info, fw)
	}
}

func remedyFor(code string, s *sockets.Socket, info *ServiceInfo, fw reach.Verdict) string {
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
		CodeScriptWritable, CodeServiceMismatch, CodeUnexpected, CodeUnpackagedExe:
		return stopWords(s, code)
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

// firewallRule is a rule for the machine's firewall: "drop" keeps
// everyone but this machine from the port, "restrict" admits only the
// networks the service is for (to be named in place of 192.0.2.0/24).
func firewallRule(s *sockets.Socket, fw reach.Verdict, how string) string {
	if !s.IsListening() || s.Exposure() == sockets.ExposureLoopback || fw.Kind == reach.Filtered || fw.Kind == reach.Closed {
		return ""
	}
	k := ruleKey{s.Proto, s.LPort, fw.Reason == reach.ReasonLegacy, how}
	rules.Lock()
	defer rules.Unlock()
	if r, ok := rules.m[k]; ok {
		return r
	}
	if len(rules.m) >= 4096 {
		rules.m = map[ruleKey]string{}
	}
	r := formatRule(k)
	rules.m[k] = r
	return r
}

// rules keeps the rules made: every listener is judged every poll, and a
// port's rule does not change.
var rules = struct {
	sync.Mutex
	m map[ruleKey]string
}{m: map[ruleKey]string{}}

type ruleKey struct {
	proto  sockets.Proto
	port   uint16
	legacy bool
	how    string
}

func formatRule(k ruleKey) string {
	proto, port, legacy, how := k.proto.String(), k.port, k.legacy, k.how
	switch {
	case how == "restrict" && legacy:
		return fmt.Sprintf("iptables -I INPUT -p %s --dport %d ! -s 192.0.2.0/24 -j DROP (192.0.2.0/24: the networks it serves)", proto, port)
	case how == "restrict":
		return fmt.Sprintf("nft add rule inet filter input %s dport %d ip saddr != 192.0.2.0/24 drop (192.0.2.0/24: the networks it serves; the table and chain as the ruleset names them)", proto, port)
	case legacy:
		return fmt.Sprintf("iptables -I INPUT -p %s --dport %d ! -i lo -j DROP", proto, port)
	}
	return fmt.Sprintf("nft add rule inet filter input %s dport %d iif != lo drop (the table and chain as the ruleset names them)", proto, port)
}
