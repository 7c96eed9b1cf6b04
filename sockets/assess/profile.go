package assess

import (
	"fmt"
	"slices"
	"strings"

	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/baseline"
)

// Server profiling, as an analyst does it: from the listeners, their
// programs and their exposure, what roles the machine plays ("a web server
// with TLS that allows remote administration"), with the evidence for
// each, and what stands out of that profile (a database reachable from
// outside on a web server, a remote desktop on a server).

// ServerRole is one thing the machine does, as its listeners show it.
type ServerRole struct {
	// Name is the role in an analyst's words: "web server", "mail server".
	Name string `json:"name"`
	// Detail qualifies it: "with TLS", "TLS only", "cleartext only".
	Detail string `json:"detail,omitempty"`
	// Reachable: at least one of its listeners can be reached from outside
	// (not loopback, not filtered or closed by the firewall); false means
	// this machine only uses it itself ("a local database").
	Reachable bool `json:"reachable"`
	// Evidence lists the listeners it rests on: "nginx on *:443/tcp (https)".
	Evidence []string `json:"evidence"`
}

// Standout is what an analyst would remark in the profile.
type Standout struct {
	Risk Risk   `json:"risk"`
	Code string `json:"code"`
	Text string `json:"text"`
}

// Profile is the machine's roles and what stands out of them.
type Profile struct {
	Roles     []ServerRole `json:"roles"`
	Standouts []Standout   `json:"standouts"`
}

// The profile's standout codes: part of the JSON and metrics interface.
const (
	StandoutExposedDatabase = "exposed-database"      // a database reachable from outside
	StandoutRemoteDesktop   = "remote-desktop"        // a remote desktop reachable on a server
	StandoutCleartextAdmin  = "cleartext-admin"       // remote administration without encryption
	StandoutContainerAPI    = "exposed-container-api" // a container or cluster API reachable from outside
	StandoutUnnamed         = "unnamed-listeners"     // reachable listeners portwatch cannot name
	StandoutWebCleartext    = "web-without-tls"       // a web server reachable without TLS only
)

// roleDef is one role: the service names (the catalog's and the program
// catalog's) that show it, in order of the detail they give.
type roleDef struct {
	name     string
	services []string
	tls      []string // the services among them that are encrypted
	// ssh: the encryption is not TLS (SSH, a VPN's own): the detail says
	// "encrypted", not "TLS".
	ssh bool
}

// roleDefs are the roles, in the order a profile lists them: what a
// server is for first, how it is run after.
var roleDefs = []roleDef{
	{"web server", []string{"http", "https", "https (quic)", "http-alt", "http-alt-2", "http-alt-3", "http-alt-4", "https-alt", "http-proxy", "dev-http", "http-9000"}, []string{"https", "https (quic)", "https-alt"}, false},
	{"mail server", []string{"smtp", "submission", "smtps", "imap", "imaps", "pop3", "pop3s"}, []string{"smtps", "imaps", "pop3s"}, false},
	{"DNS server", []string{"domain", "domain-s"}, nil, false}, // DNS in cleartext is the norm: no detail
	{"database", []string{"mysql", "postgresql", "redis", "mongodb", "mongodb-shard", "memcache", "ms-sql-s", "oracle", "couchdb", "cassandra", "influxdb", "elasticsearch", "ibm-db2"}, nil, false},
	{"file server", []string{"ftp", "ftps", "microsoft-ds", "netbios-ssn", "nfs", "afp", "rsync", "tftp", "iscsi"}, []string{"ftps"}, false},
	{"VPN endpoint", []string{"openvpn", "wireguard", "isakmp", "pptp"}, []string{"openvpn", "wireguard", "isakmp"}, true},
	{"directory and authentication", []string{"ldap", "ldaps", "kerberos", "kpasswd"}, []string{"ldaps"}, false},
	{"message broker", []string{"amqp", "mqtt", "secure-mqtt", "kafka", "rabbitmq-mgmt"}, []string{"secure-mqtt"}, false},
	{"container host", []string{"docker", "docker-s", "kube-apiserver", "kubelet", "kubelet-ro", "etcd-client", "etcd-server"}, []string{"docker-s", "kube-apiserver", "kubelet"}, false},
	{"proxy", []string{"squid", "socks"}, nil, false},
	{"time server", []string{"ntp"}, nil, false},
	{"monitoring", []string{"prometheus", "node-exporter", "nrpe", "snmp"}, nil, false},
	{"remote administration", []string{"ssh", "ssh-alt", "telnet", "webmin", "wsman", "wsmans", "cpanel", "cpanel-ssl", "salt-master"}, []string{"ssh", "ssh-alt", "wsmans", "cpanel-ssl"}, true},
	{"remote desktop", []string{"ms-wbt-server", "vnc", "vnc-1", "vnc-http", "x11", "xdmcp"}, nil, false},
}

// roleIndex maps a service name to its role's index in roleDefs.
var roleIndex = func() map[string]int {
	m := map[string]int{}
	for i, r := range roleDefs {
		for _, s := range r.services {
			m[s] = i
		}
	}
	return m
}()

// maxEvidence bounds the evidence kept per role: a machine with thousands
// of listeners of one kind says so with a count, not a thousand lines.
const maxEvidence = 8

// ProfileOf draws the profile from an assessment's listeners
// (Assessment.Profile holds it, drawn once per poll). It reads only the
// verdicts (no machine), so every output draws the same profile.
func ProfileOf(a *Assessment) Profile {
	var listeners []*Verdict
	for _, v := range a.Verdicts {
		if v.Socket.IsListening() {
			listeners = append(listeners, v)
		}
	}
	return profileOf(listeners)
}

// profileOf is the profile of these listeners.
func profileOf(listeners []*Verdict) Profile {
	accs := make([]*roleAcc, len(roleDefs))
	unnamed := 0
	var standouts []Standout
	for _, v := range listeners {
		if v.Baseline.Status == baseline.Missing {
			continue
		}
		i, ok := roleIndex[v.Service.Name]
		if !ok {
			if v.Reachable() && v.Service.Source == NotIdentified && !isEphemeralClient(v) {
				unnamed++
			}
			continue
		}
		if accs[i] == nil {
			accs[i] = &roleAcc{role: ServerRole{Name: roleDefs[i].name}, seen: map[string]bool{}}
		}
		r := accs[i]
		// Evidence is formatted for the first few listeners of a role
		// only: thousands of listeners cost a count, not a thousand strings.
		ev := ""
		if len(r.role.Evidence) < maxEvidence {
			ev = evidenceOf(v)
			if !r.seen[ev] { // SO_REUSEPORT: one place, several sockets
				r.seen[ev] = true
				r.role.Evidence = append(r.role.Evidence, ev)
			}
		} else {
			r.more++
		}
		if !v.Reachable() {
			continue
		}
		r.role.Reachable = true
		if slices.Contains(roleDefs[i].tls, v.Service.Name) {
			r.tls++
			continue
		}
		r.plain++
		if len(r.plainEvidence) < maxEvidence {
			if ev == "" {
				ev = evidenceOf(v)
			}
			if !slices.Contains(r.plainEvidence, ev) {
				r.plainEvidence = append(r.plainEvidence, ev)
			}
		}
	}
	var p Profile
	byName := map[string]*roleAcc{}
	for i, r := range accs {
		if r == nil {
			continue
		}
		def := roleDefs[i]
		switch {
		case !r.role.Reachable:
			r.role.Detail = "local only"
		case len(def.tls) == 0:
		case r.tls > 0 && r.plain > 0 && def.ssh:
			r.role.Detail = "encrypted and cleartext"
		case r.tls > 0 && r.plain > 0:
			r.role.Detail = "with TLS"
		case r.tls > 0 && def.ssh:
			r.role.Detail = "encrypted"
		case r.tls > 0:
			r.role.Detail = "TLS only"
		default:
			r.role.Detail = "cleartext only"
		}
		if r.more > 0 {
			r.role.Evidence = append(r.role.Evidence, fmt.Sprintf("and %d more", r.more))
		}
		p.Roles = append(p.Roles, r.role)
		byName[def.name] = r
	}
	standouts = append(standouts, standoutsOf(byName)...)
	if unnamed > 0 {
		standouts = append(standouts, Standout{RiskHigh, StandoutUnnamed, fmt.Sprintf(
			"%d reachable %s that portwatch cannot name: none of the roles above explains %s. Find out what %s.",
			unnamed, pluralOf(unnamed, "listener", "listeners"), pluralOf(unnamed, "it", "them"), pluralOf(unnamed, "it is", "they are"))})
	}
	slices.SortStableFunc(standouts, func(x, y Standout) int { return int(y.Risk) - int(x.Risk) })
	p.Standouts = standouts
	if p.Roles == nil {
		p.Roles = []ServerRole{}
	}
	if p.Standouts == nil {
		p.Standouts = []Standout{}
	}
	return p
}

// roleAcc gathers one role's listeners.
type roleAcc struct {
	role       ServerRole
	tls, plain int // reachable listeners, encrypted and not
	more       int // evidence left out (maxEvidence)
	seen       map[string]bool
	// plainEvidence: the reachable listeners that are not encrypted.
	plainEvidence []string
}

// serverRoles are the roles that make a machine a server, for the
// standouts that read "on a server".
var serverRoles = []string{"web server", "mail server", "DNS server", "database", "file server", "directory and authentication", "message broker"}

// standoutsOf is what the roles say against each other.
func standoutsOf(roles map[string]*roleAcc) []Standout {
	var out []Standout
	reachable := func(name string) *roleAcc {
		if r := roles[name]; r != nil && r.role.Reachable {
			return r
		}
		return nil
	}
	server := ""
	for _, name := range serverRoles {
		if reachable(name) != nil && name != "database" {
			server = name
			break
		}
	}
	if r := reachable("database"); r != nil {
		text := "A database is reachable from outside (" + strings.Join(r.plainEvidence, "; ") + "): only its clients should reach it. "
		switch {
		case reachable("web server") != nil:
			text = "A database is reachable from outside on a web server (" + strings.Join(r.plainEvidence, "; ") + "): a web application reaches its database over loopback or a private network, so nobody else needs this. "
		case roles["web server"] != nil:
			text = "A database is reachable from outside (" + strings.Join(r.plainEvidence, "; ") + "), though this machine's web server is local only: nothing outside needs the database. "
		}
		out = append(out, Standout{RiskHigh, StandoutExposedDatabase, text + "Bind it to 127.0.0.1 or let the firewall admit the application servers only."})
	}
	if r := reachable("remote desktop"); r != nil {
		text := "A remote desktop is reachable (" + strings.Join(r.plainEvidence, "; ") + "): remote-desktop ports are brute-forced and exploited constantly; reach it through a VPN or an SSH tunnel instead."
		if server != "" {
			text = "A remote desktop is reachable on a " + server + " (" + strings.Join(r.plainEvidence, "; ") + "): servers are administered over SSH or a VPN, and remote-desktop ports are brute-forced and exploited constantly. Close it, or reach it through a VPN or an SSH tunnel."
		}
		out = append(out, Standout{RiskHigh, StandoutRemoteDesktop, text})
	}
	if r := reachable("remote administration"); r != nil && r.plain > 0 {
		out = append(out, Standout{RiskHigh, StandoutCleartextAdmin, "Remote administration without encryption (" + strings.Join(r.plainEvidence, "; ") + "): passwords and commands cross the network readable by anyone on the path. Use SSH instead, and turn this off."})
	}
	if r := reachable("container host"); r != nil && r.plain > 0 {
		out = append(out, Standout{RiskHigh, StandoutContainerAPI, "A container or cluster API is reachable from outside without TLS (" + strings.Join(r.plainEvidence, "; ") + "): whoever reaches it controls the containers, and through them the machine. Bind it to a local socket or protect it with TLS client certificates."})
	}
	if r := reachable("web server"); r != nil && r.tls == 0 {
		out = append(out, Standout{RiskLow, StandoutWebCleartext, "The web server is reachable without TLS only (" + strings.Join(r.plainEvidence, "; ") + "): logins and cookies cross the network in cleartext. Serve HTTPS and redirect HTTP to it."})
	}
	return out
}

// isEphemeralClient: an unconnected UDP socket on an ephemeral port, a
// program's own client socket rather than a service.
func isEphemeralClient(v *Verdict) bool {
	return v.Socket.Proto == sockets.UDP && v.Socket.LPort >= 32768
}

// evidenceOf names a listener for a profile: "nginx on *:443/tcp (https)".
func evidenceOf(v *Verdict) string {
	s := &v.Socket
	who := "no visible process"
	if p := s.Process(); p != nil {
		who = p.Name
	}
	where := s.Local.String()
	if s.Local.IsUnspecified() {
		where = "*"
	}
	if s.Local.Is6() && !s.Local.IsUnspecified() {
		where = "[" + where + "]"
	}
	return fmt.Sprintf("%s on %s:%d/%s (%s)", who, where, s.LPort, strings.ToLower(s.Proto.String()), v.Service.Name)
}

func pluralOf(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// Summary is the profile in one line: "web server (with TLS), remote
// administration; local: database".
func (p Profile) Summary() string {
	var out, local []string
	for _, r := range p.Roles {
		switch {
		case !r.Reachable:
			local = append(local, r.Name)
		case r.Detail != "":
			out = append(out, r.Name+" ("+r.Detail+")")
		default:
			out = append(out, r.Name)
		}
	}
	s := strings.Join(out, ", ")
	if len(local) > 0 {
		if s != "" {
			s += "; "
		}
		s += "local only: " + strings.Join(local, ", ")
	}
	if s == "" {
		return "no role: no listener portwatch can name"
	}
	return s
}
