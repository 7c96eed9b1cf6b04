package assess

import (
	"path"
	"strings"

	"github.com/portwatch/portwatch/sockets"
)

// program is a well-known server program: how to recognise it, and the
// service it offers. A program is recognised by its executable (the file
// /proc/PID/exe points at), not by the name a process gives itself, which
// any process can change; only where the executable cannot be read (another
// user's process) does the name stand in.
type program struct {
	name string   // how the verdict names it
	exes []string // executable base names; "php-fpm*" is a prefix
	args []string // each must appear in the command line or the executable's path: a java main class, "http.server"
	// service is the catalog service it offers, by port: its notes and
	// risk describe the program wherever it listens.
	port  uint16
	proto sockets.Proto
	// also lists other catalog ports the program serves as itself
	// (dovecot: IMAP and POP3, with and without TLS).
	also []uint16
	web  bool // serves HTTP: agrees with any port of the web family
	// own describes a program whose service has no port of its own in the
	// catalog.
	own *CatalogEntry
	// dynamic: the program serves on ports the kernel picks (an RPC
	// service registered with rpcbind, Erlang's distribution port): its
	// unconnected UDP sockets on ephemeral ports are services, not client
	// sockets.
	dynamic bool
}

// webPorts are the ports of the HTTP family: any web server or application
// server may hold them without being in disguise.
var webPorts = map[uint16]bool{80: true, 443: true, 3000: true, 5000: true, 8000: true, 8008: true,
	8080: true, 8081: true, 8443: true, 8888: true, 9000: true}

// programs is the catalog of server programs portwatch recognises: the
// base table below, then the wider one of catalog_servers.go (which must
// come after: a java or beam.smp without the arguments of a known server
// is matched last).
var programs = append(basePrograms, serverPrograms...)

var basePrograms = []program{
	{name: "sshd", exes: []string{"sshd", "dropbear"}, port: 22, proto: sockets.TCP},
	{name: "nginx", exes: []string{"nginx"}, port: 80, proto: sockets.TCP, also: []uint16{443}, web: true},
	{name: "apache", exes: []string{"apache2", "httpd"}, port: 80, proto: sockets.TCP, also: []uint16{443}, web: true},
	{name: "lighttpd", exes: []string{"lighttpd"}, port: 80, proto: sockets.TCP, also: []uint16{443}, web: true},
	{name: "caddy", exes: []string{"caddy"}, port: 80, proto: sockets.TCP, also: []uint16{443}, web: true},
	{name: "haproxy", exes: []string{"haproxy"}, port: 80, proto: sockets.TCP, also: []uint16{443, 8404}, web: true},
	{name: "redis-server", exes: []string{"redis-server", "redis-check-rdb"}, port: 6379, proto: sockets.TCP},
	{name: "memcached", exes: []string{"memcached"}, port: 11211, proto: sockets.TCP},
	{name: "postgres", exes: []string{"postgres", "postmaster"}, port: 5432, proto: sockets.TCP},
	{name: "mysqld", exes: []string{"mysqld", "mariadbd"}, port: 3306, proto: sockets.TCP},
	{name: "mongod", exes: []string{"mongod"}, port: 27017, proto: sockets.TCP, also: []uint16{27018}},
	{name: "elasticsearch", exes: []string{"java"}, args: []string{"org.elasticsearch.bootstrap.Elasticsearch"}, port: 9200, proto: sockets.TCP, also: []uint16{9300}},
	{name: "opensearch", exes: []string{"java"}, args: []string{"org.opensearch.bootstrap.OpenSearch"}, port: 9200, proto: sockets.TCP, also: []uint16{9300}},
	{name: "vsftpd", exes: []string{"vsftpd"}, port: 21, proto: sockets.TCP},
	{name: "proftpd", exes: []string{"proftpd"}, port: 21, proto: sockets.TCP},
	{name: "pure-ftpd", exes: []string{"pure-ftpd"}, port: 21, proto: sockets.TCP},
	{name: "named", exes: []string{"named"}, port: 53, proto: sockets.UDP, also: []uint16{853, 953}},
	{name: "unbound", exes: []string{"unbound"}, port: 53, proto: sockets.UDP, also: []uint16{853, 8953}},
	{name: "dnsmasq", exes: []string{"dnsmasq"}, port: 53, proto: sockets.UDP, also: []uint16{67}},
	{name: "systemd-resolved", exes: []string{"systemd-resolved"}, port: 53, proto: sockets.UDP, also: []uint16{5355}},
	{name: "chronyd", exes: []string{"chronyd"}, port: 123, proto: sockets.UDP},
	{name: "ntpd", exes: []string{"ntpd"}, port: 123, proto: sockets.UDP},
	{name: "postfix", exes: []string{"master"}, args: []string{"postfix"}, port: 25, proto: sockets.TCP, also: []uint16{465, 587}},
	{name: "exim", exes: []string{"exim", "exim4"}, port: 25, proto: sockets.TCP, also: []uint16{465, 587}},
	{name: "dovecot", exes: []string{"dovecot"}, port: 143, proto: sockets.TCP, also: []uint16{110, 993, 995, 4190}},
	{name: "smbd", exes: []string{"smbd"}, port: 445, proto: sockets.TCP, also: []uint16{139}},
	{name: "nmbd", exes: []string{"nmbd"}, port: 137, proto: sockets.UDP, also: []uint16{138}},
	{name: "rpcbind", exes: []string{"rpcbind"}, port: 111, proto: sockets.TCP},
	{name: "cupsd", exes: []string{"cupsd"}, port: 631, proto: sockets.TCP},
	{name: "avahi-daemon", exes: []string{"avahi-daemon"}, port: 5353, proto: sockets.UDP},
	{name: "dockerd", exes: []string{"dockerd"}, port: 2375, proto: sockets.TCP, also: []uint16{2376}},
	{name: "containerd", exes: []string{"containerd"}, own: &CatalogEntry{Name: "containerd", Risk: RiskMedium, Tags: TagAdmin,
		Description: "containerd container runtime (its streaming or metrics endpoint)",
		Note:        "containerd's API controls every container of the machine. Its endpoints belong on loopback or a unix socket, never on a network."}},
	{name: "kubelet", exes: []string{"kubelet"}, port: 10250, proto: sockets.TCP, also: []uint16{10255}},
	{name: "etcd", exes: []string{"etcd"}, port: 2379, proto: sockets.TCP, also: []uint16{2380}},
	{name: "node", exes: []string{"node", "nodejs"}, port: 3000, proto: sockets.TCP, web: true},
	{name: "python http.server", exes: []string{"python*"}, args: []string{"http.server"}, port: 8000, proto: sockets.TCP, web: true},
	{name: "php-fpm", exes: []string{"php-fpm*"}, port: 9000, proto: sockets.TCP, web: true},
	{name: "gunicorn", exes: []string{"gunicorn", "python*"}, args: []string{"gunicorn"}, port: 8000, proto: sockets.TCP, web: true},
	{name: "uwsgi", exes: []string{"uwsgi", "uwsgi-core"}, port: 8000, proto: sockets.TCP, web: true},
}

// forwarders hold ports on behalf of something else (a container's
// published port, an SSH tunnel): the port's service is not theirs to
// offer, and their holding it is no disguise.
var forwarders = map[string]string{
	"docker-proxy": "docker-proxy forwards a container's published port",
	"rootlessport": "rootlessport forwards a rootless container's published port",
	"slirp4netns":  "slirp4netns forwards a rootless container's port",
	"ssh":          "an SSH client forwards this port through a tunnel (ssh -L)",
	"kube-proxy":   "kube-proxy forwards a Kubernetes service port",
}

// index is the program's place in the catalog.
func (pr *program) index() int {
	for i := range programs {
		if &programs[i] == pr {
			return i
		}
	}
	return -1
}

// forwarderOf names the owner that forwards the port for something else,
// and what it does, if one does.
func forwarderOf(s *sockets.Socket) (string, string) {
	for _, p := range s.Owners {
		if why, ok := forwarders[exeName(p)]; ok {
			return exeName(p), why
		}
	}
	return "", ""
}

// exeName is the name a process is recognised by: its executable's base
// name, or its own name where the executable cannot be read.
func exeName(p *sockets.Process) string {
	if p.Exe != "" {
		return path.Base(p.Exe)
	}
	return p.Name
}

// matches reports whether a process runs this program.
func (pr *program) matches(p *sockets.Process) bool {
	name := exeName(p)
	found := false
	for _, e := range pr.exes {
		if prefix, ok := strings.CutSuffix(e, "*"); ok {
			found = found || strings.HasPrefix(name, prefix)
		} else {
			found = found || name == e
		}
	}
	for _, a := range pr.args {
		found = found && (strings.Contains(p.Cmdline, a) || strings.Contains(p.Exe, a))
	}
	return found
}

// serves reports whether the program offers the service of a port.
func (pr *program) serves(port uint16) bool {
	if port == pr.port || (pr.web && webPorts[port]) {
		return true
	}
	for _, p := range pr.also {
		if p == port {
			return true
		}
	}
	return false
}

// byExe indexes the catalog by executable name ("python*" under "python*"),
// so recognising a process costs a look-up or two, not a pass over the
// catalog: every listener is judged again every poll.
var byExe = func() map[string][]int {
	idx := map[string][]int{}
	for i, pr := range programs {
		for _, e := range pr.exes {
			idx[e] = append(idx[e], i)
		}
	}
	return idx
}()

// candidates lists the catalog's programs a name may be (byExe's entries
// under the name itself, then under its stems: "python3.11" is "python*",
// "php-fpm8.2" "php-fpm*"), in catalog order per key. The keys are built in
// a buffer on the stack, so a look-up allocates nothing: every listener is
// judged every poll.
func candidates(name string, yield func(i int) bool) {
	var buf [64]byte
	stem := strings.TrimRight(name, "0123456789.-") // python3.11, php-fpm8.2
	for k, base := range []string{name, stem, strings.TrimSuffix(stem, "-")} {
		key := buf[:0]
		if k == 0 {
			key = append(key, base...)
		} else {
			if len(base)+1 > len(buf) {
				continue
			}
			key = append(append(key, base...), '*')
		}
		for _, i := range byExe[string(key)] {
			if !yield(i) {
				return
			}
		}
	}
}

// programOf finds the first owner that runs a program of the catalog. A
// program counts only when its executable was not disproven: a file no
// package installed, or one that differs from its package, is not the
// daemon it is named after (provenanceFindings says so). Where nothing
// could be checked (another user's process, not root) the name stands in,
// and the identity says it is unproven.
func programOf(s *sockets.Socket) (*program, *sockets.Process) {
	for _, p := range s.Owners {
		// An interpreter's program is named by what it runs (-m
		// http.server, a main class): an interpreter no package installed
		// (pyenv's) still runs it. Any other disproven file is not its name.
		byArgsOnly := p.Identity.Disproven()
		if byArgsOnly && !isInterpreter(exeName(p)) {
			continue
		}
		found := -1
		candidates(exeName(p), func(i int) bool {
			if byArgsOnly && len(programs[i].args) == 0 {
				return true
			}
			if programs[i].matches(p) {
				found = i
				return false
			}
			return true
		})
		if found >= 0 {
			return &programs[found], p
		}
	}
	return nil, nil
}

// backdoorTools are programs that hand a port to whoever connects: a
// listening shell or netcat is the oldest backdoor there is.
var backdoorTools = map[string]bool{"nc": true, "ncat": true, "netcat": true, "nc.openbsd": true, "nc.traditional": true,
	"socat": true, "bash": true, "sh": true, "dash": true, "zsh": true, "ksh": true, "busybox": true, "telnetd": true}

// interpreters run scripts: what they run is named in their arguments.
var interpreters = []string{"python", "perl", "ruby", "php", "node", "bash", "sh", "dash", "lua"}

func isInterpreter(name string) bool {
	for _, i := range interpreters {
		if name == i || (strings.HasPrefix(name, i) && strings.Trim(name[len(i):], "0123456789.") == "") {
			return true
		}
	}
	return false
}

// servedBy lists the programs of the catalog that offer a port's service:
// what a port held by anything else is measured against.
func servedBy(port uint16) []*program {
	var out []*program
	for i := range programs {
		if programs[i].serves(port) && (!programs[i].web || webPorts[port]) {
			out = append(out, &programs[i])
		}
	}
	return out
}
