//go:build linux

package assess

import (
	"fmt"
	"os"
	"strings"

	"github.com/portwatch/portwatch/sockets"
)

// corpusDaemon is a server program of a Debian package, started as its
// systemd unit starts it, and what an analyst says of each of its sockets.
type corpusDaemon struct {
	name string
	bins []string // the files its package installs that must be present
	// prep is root's work before the start: the unit's ExecStartPre and
	// RuntimeDirectory, the postinst steps a first start needs.
	prep string
	// exec is the unit's ExecStart (with its EnvironmentFile's words), run
	// under user ("name:group") where the unit sets User=; root otherwise,
	// the daemon dropping its privileges itself as the unit expects.
	exec string
	user string
	// ready are the listeners it must open before it is judged.
	ready []corpusPort
	want  []corpusExpect
}

type corpusPort struct {
	proto sockets.Proto
	port  uint16
}

func (d *corpusDaemon) missing() string {
	for _, b := range d.bins {
		if _, err := os.Stat(b); err != nil {
			return "its package is not installed (no " + b + ")"
		}
	}
	return ""
}

func (d *corpusDaemon) script() string {
	s := d.prep
	if s != "" {
		s += "; "
	}
	if d.user == "" {
		return s + "exec " + d.exec
	}
	u, g, _ := strings.Cut(d.user, ":")
	return s + fmt.Sprintf("cd /; exec setpriv --reuid=%s --regid=%s --init-groups -- %s", u, g, d.exec)
}

func (d *corpusDaemon) up(vs []*Verdict) bool {
	for _, p := range d.ready {
		found := false
		for _, v := range vs {
			found = found || v.Socket.IsListening() && v.Socket.Proto == p.proto && v.Socket.LPort == p.port && len(v.Socket.Owners) > 0
		}
		if !found {
			return false
		}
	}
	return true
}

func (d *corpusDaemon) judge(v *Verdict) corpusRow {
	r := judgeDaemon(d.name, d.want, v)
	return r
}

// The expectations' shorthand.
const (
	tcp = sockets.TCP
	udp = sockets.UDP
)

func on(proto sockets.Proto, port uint16, service string, min, max Risk, codes ...string) corpusExpect {
	e := corpusExpect{proto: proto, port: port, service: service, min: min, max: max}
	for _, c := range codes {
		if c, ok := strings.CutPrefix(c, "!"); ok {
			e.forbid = append(e.forbid, c)
		} else {
			e.need = append(e.need, c)
		}
	}
	return e
}

// clientSockets: a daemon's own unconnected UDP sockets on ephemeral
// ports (its DNS queries, a proxy's upstream) are its client sockets.
var clientSockets = corpusExpect{proto: udp, role: RoleClientSocket, min: RiskInfo, max: RiskLow, need: []string{CodeClientSocket}, forbid: []string{CodeUnknownListener}}

// ownConnections: a daemon's own connections (to itself, to its helpers)
// are no finding of their own.
var ownConnections = corpusExpect{role: RoleConnection, min: RiskInfo, max: RiskLow}

// corpusDaemons: server packages among Debian's most installed (popcon,
// by_inst, sections net, mail, web, database, admin, java), each with the
// unit it ships (/lib/systemd/system) and its default configuration. The
// analyst's word per port: a service meant to be reached (web, mail, DNS,
// VPN) is at most MEDIUM on the network; a database, a console or a
// control channel on loopback is at most MEDIUM, beyond it HIGH.
var corpusDaemons = []corpusDaemon{
	{name: "named", bins: []string{"/usr/sbin/named"},
		prep: "install -d -o bind -g bind /run/named", exec: "/usr/sbin/named -f -u bind",
		ready: []corpusPort{{udp, 53}, {tcp, 53}, {tcp, 953}},
		want: []corpusExpect{on(udp, 53, "domain", RiskLow, RiskMedium, "!"+CodeUnknownListener), on(tcp, 53, "domain", RiskLow, RiskMedium),
			on(tcp, 953, "rndc", RiskLow, RiskMedium), clientSockets, ownConnections}},
	{name: "unbound", bins: []string{"/usr/sbin/unbound"},
		prep: "/usr/libexec/unbound-helper chroot_setup || true; /usr/libexec/unbound-helper root_trust_anchor_update || true",
		exec: "/usr/sbin/unbound -d -p", ready: []corpusPort{{udp, 53}, {tcp, 53}},
		want: []corpusExpect{on(udp, 53, "domain", RiskInfo, RiskMedium), on(tcp, 53, "domain", RiskInfo, RiskMedium),
			on(tcp, 8953, "unbound-control", RiskInfo, RiskMedium), clientSockets, ownConnections}},
	{name: "dnsmasq", bins: []string{"/usr/sbin/dnsmasq", "/usr/share/dnsmasq/systemd-helper"},
		prep: "/usr/share/dnsmasq/systemd-helper checkconfig", exec: "/usr/share/dnsmasq/systemd-helper exec",
		ready: []corpusPort{{udp, 53}, {tcp, 53}},
		want:  []corpusExpect{on(udp, 53, "domain", RiskLow, RiskMedium), on(tcp, 53, "domain", RiskLow, RiskMedium), clientSockets, ownConnections}},
	{name: "postfix", bins: []string{"/usr/sbin/postmulti", "/usr/lib/postfix/sbin/master"},
		prep: "/usr/lib/postfix/configure-instance.sh -", exec: "/usr/sbin/postmulti -i - -p start",
		ready: []corpusPort{{tcp, 25}},
		want:  []corpusExpect{on(tcp, 25, "smtp", RiskLow, RiskMedium), ownConnections}},
	{name: "dovecot", bins: []string{"/usr/sbin/dovecot", "/usr/lib/dovecot/imap-login", "/usr/lib/dovecot/pop3-login"},
		exec: "/usr/sbin/dovecot -F", ready: []corpusPort{{tcp, 143}, {tcp, 110}, {tcp, 993}, {tcp, 995}},
		// One daemon's equivalent protocols rated alike.
		want: []corpusExpect{on(tcp, 143, "imap", RiskLow, RiskMedium), on(tcp, 110, "pop3", RiskLow, RiskMedium),
			on(tcp, 993, "imaps", RiskLow, RiskMedium), on(tcp, 995, "pop3s", RiskLow, RiskMedium), ownConnections}},
	{name: "vsftpd", bins: []string{"/usr/sbin/vsftpd"},
		prep: "mkdir -p /var/run/vsftpd/empty", exec: "/usr/sbin/vsftpd /etc/vsftpd.conf", ready: []corpusPort{{tcp, 21}},
		// FTP on the network: passwords in clear.
		want: []corpusExpect{on(tcp, 21, "ftp", RiskMedium, RiskHigh, CodeCleartext)}},
	{name: "squid", bins: []string{"/usr/sbin/squid"},
		prep: "install -d -o proxy -g proxy /run/squid; /usr/sbin/squid --foreground -z", exec: "/usr/sbin/squid --foreground -sYC",
		ready: []corpusPort{{tcp, 3128}},
		want:  []corpusExpect{on(tcp, 3128, "squid", RiskLow, RiskMedium), clientSockets, ownConnections}},
	{name: "haproxy", bins: []string{"/usr/sbin/haproxy"},
		// The package's haproxy.cfg has no frontend; a site adds one and
		// the stats page beside it.
		prep:  `install -d /run/haproxy; printf 'frontend web\n  bind :80\n  default_backend app\nbackend app\n  server a 127.0.0.1:8080\nlisten stats\n  bind 127.0.0.1:8404\n  stats enable\n  stats uri /\n' > /run/site.cfg`,
		exec:  "/usr/sbin/haproxy -Ws -f /etc/haproxy/haproxy.cfg -f /run/site.cfg -p /run/haproxy.pid -S /run/haproxy-master.sock",
		ready: []corpusPort{{tcp, 80}, {tcp, 8404}},
		want:  []corpusExpect{on(tcp, 80, "http", RiskLow, RiskMedium), on(tcp, 8404, "haproxy-stats", RiskInfo, RiskMedium), ownConnections}},
	{name: "apache2", bins: []string{"/usr/sbin/apache2"},
		exec: "env APACHE_STARTED_BY_SYSTEMD=true /usr/sbin/apachectl start", ready: []corpusPort{{tcp, 80}},
		want: []corpusExpect{on(tcp, 80, "http", RiskLow, RiskMedium), ownConnections}},
	{name: "lighttpd", bins: []string{"/usr/sbin/lighttpd"},
		prep: "/usr/sbin/lighttpd -tt -f /etc/lighttpd/lighttpd.conf", exec: "/usr/sbin/lighttpd -D -f /etc/lighttpd/lighttpd.conf",
		ready: []corpusPort{{tcp, 80}},
		want:  []corpusExpect{on(tcp, 80, "http", RiskLow, RiskMedium), ownConnections}},
	{name: "nginx", bins: []string{"/usr/sbin/nginx"},
		prep: "/usr/sbin/nginx -t -q -g 'daemon on; master_process on;'", exec: "/usr/sbin/nginx -g 'daemon off; master_process on;'",
		ready: []corpusPort{{tcp, 80}},
		want:  []corpusExpect{on(tcp, 80, "http", RiskLow, RiskMedium), ownConnections}},
	{name: "tor", bins: []string{"/usr/bin/tor"},
		prep: "install -m 02755 -o debian-tor -g debian-tor -d /run/tor",
		exec: "/usr/bin/tor --defaults-torrc /usr/share/tor/tor-service-defaults-torrc -f /etc/tor/torrc --RunAsDaemon 0",
		// Its SOCKS port on loopback, as it ships.
		ready: []corpusPort{{tcp, 9050}},
		want:  []corpusExpect{on(tcp, 9050, "tor-socks", RiskInfo, RiskMedium), on(tcp, 9051, "tor-control", RiskInfo, RiskMedium), clientSockets, ownConnections}},
	{name: "openvpn", bins: []string{"/usr/sbin/openvpn"},
		// A site's server: the package ships none. A VPN endpoint is meant
		// to be reached.
		prep:  "mkdir -p /run/openvpn; printf 'dev null\nproto udp\nport 1194\nifconfig-noexec\nroute-noexec\n' > /run/openvpn/server.conf",
		exec:  "/usr/sbin/openvpn --status /run/openvpn/server.status 10 --cd /etc/openvpn --config /run/openvpn/server.conf --writepid /run/openvpn/server.pid",
		ready: []corpusPort{{udp, 1194}},
		want:  []corpusExpect{on(udp, 1194, "openvpn", RiskLow, RiskMedium)}},
	{name: "nfs (rpcbind, statd, mountd)", bins: []string{"/sbin/rpcbind", "/sbin/rpc.statd", "/usr/sbin/rpc.mountd"},
		prep: "mkdir -p /run/rpcbind; /sbin/rpcbind -w; RPC_STATD_NO_NOTIFY=1 /sbin/rpc.statd",
		exec: "/usr/sbin/rpc.mountd -F", ready: []corpusPort{{tcp, 111}, {udp, 111}},
		// The portmapper on every interface is the classic NFS finding;
		// statd and mountd sit on ports rpcbind hands out.
		want: []corpusExpect{on(tcp, 111, "rpcbind", RiskMedium, RiskHigh), on(udp, 111, "rpcbind", RiskMedium, RiskHigh),
			on(0, 0, "", RiskLow, RiskMedium, "!"+CodeUnknownListener)}},
	{name: "ngircd", bins: []string{"/usr/sbin/ngircd"},
		prep: "install -d -o irc -g irc /run/ngircd", exec: "/usr/sbin/ngircd", user: "irc:irc",
		ready: []corpusPort{{tcp, 6667}},
		// A packaged IRC daemon under its own account: no backdoor.
		want: []corpusExpect{on(tcp, 6667, "irc", RiskLow, RiskMedium, "!"+CodeBackdoorPort)}},
	{name: "freeradius", bins: []string{"/usr/sbin/freeradius"},
		prep: "install -d -o freerad -g freerad /run/freeradius", exec: "/usr/sbin/freeradius -f", user: "freerad:freerad",
		ready: []corpusPort{{udp, 1812}, {udp, 1813}},
		want: []corpusExpect{on(udp, 1812, "radius", RiskLow, RiskMedium), on(udp, 1813, "radius-acct", RiskLow, RiskMedium),
			on(udp, 18120, "radius-status", RiskInfo, RiskMedium), clientSockets}},
	{name: "mariadb", bins: []string{"/usr/sbin/mariadbd"},
		prep: "install -d -o mysql -g mysql /run/mysqld", exec: "/usr/sbin/mariadbd", user: "mysql:mysql",
		ready: []corpusPort{{tcp, 3306}},
		want:  []corpusExpect{on(tcp, 3306, "mysql", RiskInfo, RiskMedium, "!"+CodeDBExposed)}},
	{name: "postgresql", bins: []string{"/usr/lib/postgresql/15/bin/postgres"},
		prep: "install -d -o postgres -g postgres -m 2775 /run/postgresql",
		exec: "/usr/lib/postgresql/15/bin/postgres -D /var/lib/postgresql/15/main -c config_file=/etc/postgresql/15/main/postgresql.conf",
		user: "postgres:postgres", ready: []corpusPort{{tcp, 5432}},
		want: []corpusExpect{on(tcp, 5432, "postgresql", RiskInfo, RiskMedium, "!"+CodeDBExposed), on(udp, 0, "", RiskInfo, RiskLow)}},
	{name: "slapd", bins: []string{"/usr/sbin/slapd"},
		prep:  "install -d -o openldap -g openldap /run/slapd",
		exec:  "/usr/sbin/slapd -h 'ldap:/// ldapi:///' -g openldap -u openldap -F /etc/ldap/slapd.d -d 0",
		ready: []corpusPort{{tcp, 389}},
		// The directory on every interface without TLS.
		want: []corpusExpect{on(tcp, 389, "ldap", RiskMedium, RiskHigh)}},
	{name: "snmpd", bins: []string{"/usr/sbin/snmpd"},
		prep: "mkdir -p /run/agentx", exec: "/usr/sbin/snmpd -LOw -u Debian-snmp -g Debian-snmp -I -smux,mteTrigger,mteTriggerConf -f",
		ready: []corpusPort{{udp, 161}},
		want:  []corpusExpect{on(udp, 161, "snmp", RiskInfo, RiskMedium), clientSockets}},
	{name: "chronyd", bins: []string{"/usr/sbin/chronyd"},
		// -x: the test must not steer this machine's clock (the unit's
		// DAEMON_OPTS is -F 1; the clock is not namespaced).
		prep: "install -d -o _chrony -g _chrony /run/chrony", exec: "/usr/sbin/chronyd -F 1 -x -d",
		ready: []corpusPort{{udp, 323}},
		want:  []corpusExpect{on(udp, 323, "", RiskInfo, RiskLow, "!"+CodeUnknownListener), clientSockets, on(udp, 0, "", RiskInfo, RiskLow)}},
	{name: "smbd", bins: []string{"/usr/sbin/smbd"},
		prep: "mkdir -p /run/samba", exec: "/usr/sbin/smbd --foreground --no-process-group",
		ready: []corpusPort{{tcp, 445}, {tcp, 139}},
		// SMB on every interface: the file shares of the machine.
		want: []corpusExpect{on(tcp, 445, "microsoft-ds", RiskMedium, RiskHigh), on(tcp, 139, "netbios-ssn", RiskMedium, RiskHigh), ownConnections}},
	{name: "nmbd", bins: []string{"/usr/sbin/nmbd"},
		prep: "mkdir -p /run/samba", exec: "/usr/sbin/nmbd --foreground --no-process-group",
		ready: []corpusPort{{udp, 137}, {udp, 138}},
		want:  []corpusExpect{on(udp, 137, "netbios-ns", RiskLow, RiskMedium), on(udp, 138, "netbios-dgm", RiskLow, RiskMedium)}},
	{name: "cupsd", bins: []string{"/usr/sbin/cupsd"},
		prep: "mkdir -p /run/cups", exec: "/usr/sbin/cupsd -f", ready: []corpusPort{{tcp, 631}},
		want: []corpusExpect{on(tcp, 631, "ipp", RiskInfo, RiskLow), clientSockets}},
	{name: "mosquitto", bins: []string{"/usr/sbin/mosquitto"},
		prep: "mkdir -m 740 -p /var/log/mosquitto /run/mosquitto; chown mosquitto /var/log/mosquitto /run/mosquitto",
		exec: "/usr/sbin/mosquitto -c /etc/mosquitto/mosquitto.conf", ready: []corpusPort{{tcp, 1883}},
		// Mosquitto 2 listens on loopback unless told otherwise.
		want: []corpusExpect{on(tcp, 1883, "mqtt", RiskInfo, RiskMedium, "!"+CodeDBExposed)}},
	{name: "varnishd", bins: []string{"/usr/sbin/varnishd"},
		exec:  "/usr/sbin/varnishd -j unix,user=vcache -F -a :6081 -T localhost:6082 -f /etc/varnish/default.vcl -S /etc/varnish/secret -s malloc,256m",
		ready: []corpusPort{{tcp, 6081}, {tcp, 6082}},
		want:  []corpusExpect{on(tcp, 6081, "varnish", RiskLow, RiskMedium), on(tcp, 6082, "varnish-admin", RiskInfo, RiskMedium), ownConnections}},
	{name: "rabbitmq", bins: []string{"/usr/lib/rabbitmq/bin/rabbitmq-server"},
		prep: "install -d -o rabbitmq -g rabbitmq /run/rabbitmq", exec: "env HOME=/var/lib/rabbitmq /usr/lib/rabbitmq/bin/rabbitmq-server",
		user: "rabbitmq:rabbitmq", ready: []corpusPort{{tcp, 4369}, {tcp, 25672}, {tcp, 5672}},
		// The broker on every interface, its Erlang distribution port too:
		// whoever has the cookie runs code.
		want: []corpusExpect{on(tcp, 5672, "amqp", RiskMedium, RiskHigh), on(tcp, 25672, "erlang-dist", RiskHigh, RiskHigh),
			on(tcp, 4369, "epmd", RiskMedium, RiskHigh), ownConnections}},
	{name: "tomcat10", bins: []string{"/usr/libexec/tomcat10/tomcat-start.sh", "/usr/share/tomcat10/bin/catalina.sh"},
		prep: "CATALINA_HOME=/usr/share/tomcat10 CATALINA_BASE=/var/lib/tomcat10 /usr/libexec/tomcat10/tomcat-update-policy.sh",
		exec: "env CATALINA_HOME=/usr/share/tomcat10 CATALINA_BASE=/var/lib/tomcat10 CATALINA_TMPDIR=/tmp JAVA_OPTS=-Djava.awt.headless=true /bin/sh /usr/libexec/tomcat10/tomcat-start.sh",
		// Debian's server.xml switches the shutdown port off (port="-1").
		user: "tomcat:tomcat", ready: []corpusPort{{tcp, 8080}},
		want: []corpusExpect{on(tcp, 8080, "", RiskLow, RiskMedium, "!"+CodeUnknownListener), on(tcp, 8005, "tomcat-shutdown", RiskInfo, RiskMedium), ownConnections}},
	{name: "prometheus", bins: []string{"/usr/bin/prometheus"},
		exec: "/usr/bin/prometheus", user: "prometheus:prometheus", ready: []corpusPort{{tcp, 9090}},
		// Every metric of the fleet, and its query API, to anyone.
		want: []corpusExpect{on(tcp, 9090, "", RiskMedium, RiskHigh, "!"+CodeUnknownListener), ownConnections}},
	{name: "node-exporter", bins: []string{"/usr/bin/prometheus-node-exporter"},
		exec: "/usr/bin/prometheus-node-exporter", user: "prometheus:prometheus", ready: []corpusPort{{tcp, 9100}},
		want: []corpusExpect{on(tcp, 9100, "", RiskLow, RiskMedium, "!"+CodeUnknownListener)}},
	{name: "redis", bins: []string{"/usr/bin/redis-server"},
		prep: "install -d -o redis -g redis /run/redis", exec: "/usr/bin/redis-server /etc/redis/redis.conf --daemonize no",
		user: "redis:redis", ready: []corpusPort{{tcp, 6379}},
		want: []corpusExpect{on(tcp, 6379, "redis", RiskInfo, RiskMedium, "!"+CodeDBExposed)}},
	{name: "memcached", bins: []string{"/usr/share/memcached/scripts/systemd-memcached-wrapper"},
		exec:  "/usr/share/memcached/scripts/systemd-memcached-wrapper /etc/memcached.conf",
		ready: []corpusPort{{tcp, 11211}},
		want:  []corpusExpect{on(tcp, 11211, "", RiskInfo, RiskMedium, "!"+CodeDBExposed)}},
	{name: "sshd", bins: []string{"/usr/sbin/sshd"},
		prep: "mkdir -p -m 0755 /run/sshd", exec: "/usr/sbin/sshd -D", ready: []corpusPort{{tcp, 22}},
		want: []corpusExpect{on(tcp, 22, "ssh", RiskLow, RiskMedium)}},
}
