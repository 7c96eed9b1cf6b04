package assess

import (
	"strings"
	"testing"

	"github.com/portwatch/portwatch/sockets"
)

func proc(pid int32, exe, cmdline, user string, uid int32) *sockets.Process {
	name := exe[strings.LastIndexByte(exe, '/')+1:]
	return &sockets.Process{PID: pid, Name: name, Exe: exe, Cmdline: cmdline, User: user, UID: uid}
}

func owned(addr string, port uint16, owners ...*sockets.Process) sockets.Socket {
	s := sock(sockets.TCP, addr, port, "0.0.0.0", 0, sockets.StateListen, uint64(port))
	s.Owners, s.OwnerStatus = owners, sockets.OwnerKnown
	return s
}

func hasCode(fs []Finding, code string) *Finding {
	for i := range fs {
		if fs[i].Code == code {
			return &fs[i]
		}
	}
	return nil
}

// The analyst's table from the issue: what runs, and what portwatch must
// say of it.
func TestServicesAreIdentifiedByProgramAsWellAsPort(t *testing.T) {
	kb := testKnowledge(t)
	sshd := proc(100, "/usr/sbin/sshd", "sshd: /usr/sbin/sshd -D -p 2222", "root", 0)
	vsftpd := proc(101, "/usr/sbin/vsftpd", "/usr/sbin/vsftpd /etc/vsftpd.conf", "root", 0)
	postgres := proc(102, "/usr/lib/postgresql/15/bin/postgres", "/usr/lib/postgresql/15/bin/postgres -p 5433", "postgres", 105)
	redis := proc(103, "/usr/bin/redis-server", "/usr/bin/redis-server 127.0.0.1:6380", "redis", 106)
	master := proc(104, "/usr/sbin/nginx", "nginx: master process /usr/sbin/nginx", "root", 0)
	worker := proc(105, "/usr/sbin/nginx", "nginx: worker process", "nobody", 65534)
	python := proc(106, "/usr/bin/python3.11", "python3 /opt/fake/server.py", "root", 0)
	cases := []struct {
		name    string
		s       sockets.Socket
		service string
		source  Source
		risk    Risk // the least the row's risk must be
		want    []string
		not     []string
	}{
		{"sshd on 2222", owned("127.0.0.1", 2222, sshd), "ssh", ByProgram, RiskLow, nil, []string{CodeUnknownListener, CodeServiceMismatch}},
		{"vsftpd on 2121", owned("0.0.0.0", 2121, vsftpd), "ftp", ByProgram, RiskHigh, []string{CodeCleartext}, []string{CodeUnknownListener}},
		{"postgres on 5433", owned("127.0.0.1", 5433, postgres), "postgresql", ByProgram, RiskLow, nil, []string{CodeUnknownListener, CodeUnusualUser}},
		{"redis on 6380", owned("0.0.0.0", 6380, redis), "redis", ByProgram, RiskHigh, []string{CodeDBExposed}, []string{CodeUnknownListener}},
		{"nginx pre-fork on 8081", owned("0.0.0.0", 8081, master, worker, worker), "http-alt-3", ByPortAndProgram, RiskMedium, []string{CodePreFork}, []string{CodeRootHighPort, CodeUnknownListener}},
		{"nginx on an ephemeral port", owned("0.0.0.0", 37120, master, worker), "http", ByProgram, RiskMedium, []string{CodePreFork}, []string{CodeUnknownListener}},
		{"python3 as ssh", owned("0.0.0.0", 22, python), "ssh", ByPort, RiskHigh, []string{CodeServiceMismatch}, nil},
		{"python3 as redis", owned("127.0.0.1", 6379, python), "redis", ByPort, RiskMedium, []string{CodeServiceMismatch}, []string{CodeUnusualUser}},
		{"sshd on 22", owned("0.0.0.0", 22, sshd), "ssh", ByPortAndProgram, RiskMedium, nil, []string{CodeServiceMismatch}},
	}
	for _, c := range cases {
		v := judged(kb, c.s).Verdicts[0]
		if v.Service.Name != c.service || v.Service.Source != c.source {
			t.Errorf("%s: service %q %s (%s), want %q %s", c.name, v.Service.Name, v.Service.Source, v.Service.How(), c.service, c.source)
		}
		if v.Risk < c.risk {
			t.Errorf("%s: risk %s, want at least %s", c.name, v.Risk, c.risk)
		}
		for _, code := range c.want {
			if hasCode(v.Findings, code) == nil {
				t.Errorf("%s: no %s finding in %v", c.name, code, v.Findings)
			}
		}
		for _, code := range c.not {
			if f := hasCode(v.Findings, code); f != nil {
				t.Errorf("%s: unwanted %s finding: %s", c.name, code, f.Text)
			}
		}
	}
}

func TestMismatchNamesBothAndItsSeverity(t *testing.T) {
	kb := testKnowledge(t)
	python := proc(106, "/usr/bin/python3", "python3 /opt/x/fake.py", "root", 0)
	for _, c := range []struct {
		port uint16
		risk Risk
		text string
	}{
		{22, RiskHigh, "Port 22 is ssh's, but the program is python3 (/usr/bin/python3)"},
		{25, RiskHigh, "Port 25 is smtp's"},
		{3389, RiskHigh, "xrdp would be expected"}, // the wider catalog knows xrdp
		{6379, RiskMedium, "Port 6379 is redis's, but the program is python3"},
		{5432, RiskMedium, "postgres would be expected"},
	} {
		v := judged(kb, owned("0.0.0.0", c.port, python)).Verdicts[0]
		f := hasCode(v.Findings, CodeServiceMismatch)
		if f == nil || f.Severity != c.risk || !strings.Contains(f.Text, c.text) {
			t.Errorf("port %d: mismatch %+v, want %s with %q", c.port, f, c.risk, c.text)
		}
	}
	// Another known server on a port that is not its own says what it is.
	nginx := proc(7, "/usr/sbin/nginx", "nginx: master", "root", 0)
	v := judged(kb, owned("0.0.0.0", 22, nginx)).Verdicts[0]
	if f := hasCode(v.Findings, CodeServiceMismatch); f == nil || !strings.Contains(f.Text, "which serves http") || f.Severity != RiskHigh {
		t.Errorf("nginx on 22: %v", v.Findings)
	}
	// Any program may serve HTTP: an application server on 8080 is no disguise.
	app := proc(8, "/opt/shop/bin/shop", "/opt/shop/bin/shop --port 8080", "shop", 1001)
	if v := judged(kb, owned("0.0.0.0", 8080, app)).Verdicts[0]; hasCode(v.Findings, CodeServiceMismatch) != nil {
		t.Errorf("an application on 8080 is called a disguise: %v", v.Findings)
	}
}

func TestShellsForwardersAndScripts(t *testing.T) {
	kb := testKnowledge(t)
	nc := proc(9, "/usr/bin/nc.openbsd", "nc -lkp 4445 -e /bin/sh", "www-data", 33)
	if v := judged(kb, owned("0.0.0.0", 4445, nc)).Verdicts[0]; hasCode(v.Findings, CodeBackdoorTool) == nil || v.Risk != RiskHigh {
		t.Errorf("a listening netcat: %s %v", v.Risk, v.Findings)
	}
	proxy := proc(10, "/usr/bin/docker-proxy", "/usr/bin/docker-proxy -proto tcp -host-port 6379", "root", 0)
	v := judged(kb, owned("0.0.0.0", 6379, proxy)).Verdicts[0]
	if hasCode(v.Findings, CodeForwarded) == nil || hasCode(v.Findings, CodeServiceMismatch) != nil {
		t.Errorf("docker-proxy on 6379: %v", v.Findings)
	}
	script := proc(11, "/usr/bin/python3", "python3 /tmp/.x/serve.py", "www-data", 33)
	if v := judged(kb, owned("0.0.0.0", 8000, script)).Verdicts[0]; hasCode(v.Findings, CodeScriptWritable) == nil {
		t.Errorf("a script from /tmp: %v", v.Findings)
	}
	served := proc(12, "/usr/bin/python3", "python3 -m http.server 8123", "alice", 1000)
	v = judged(kb, owned("0.0.0.0", 8123, served)).Verdicts[0]
	if v.Service.Program != "python http.server" || v.Service.Name != "http-alt" || hasCode(v.Findings, CodeUnknownListener) != nil {
		t.Errorf("python -m http.server: %s %s %v", v.Service.Name, v.Service.How(), v.Findings)
	}
}

// A process that calls itself sshd is not sshd: the executable decides.
func TestTheExecutableDecidesNotTheName(t *testing.T) {
	kb := testKnowledge(t)
	fake := &sockets.Process{PID: 13, Name: "sshd", Exe: "/var/tmp/.k/kthreadd", Cmdline: "sshd: root@pts/0", User: "root"}
	v := judged(kb, owned("0.0.0.0", 22, fake)).Verdicts[0]
	if v.Service.Source == ByPortAndProgram || hasCode(v.Findings, CodeServiceMismatch) == nil {
		t.Errorf("a renamed binary passes as sshd: %s %v", v.Service.How(), v.Findings)
	}
}

// Every server program an analyst expects portwatch to know, as it runs.
func TestProgramCatalogKnowsTheCommonServers(t *testing.T) {
	for _, c := range []struct{ exe, cmdline, want string }{
		{"/usr/sbin/sshd", "sshd: /usr/sbin/sshd -D", "sshd"},
		{"/usr/sbin/nginx", "nginx: master process", "nginx"},
		{"/usr/sbin/apache2", "/usr/sbin/apache2 -k start", "apache"},
		{"/usr/sbin/httpd", "/usr/sbin/httpd -DFOREGROUND", "apache"},
		{"/usr/sbin/lighttpd", "lighttpd -D", "lighttpd"},
		{"/usr/bin/caddy", "caddy run", "caddy"},
		{"/usr/sbin/haproxy", "haproxy -f /etc/haproxy", "haproxy"},
		{"/usr/bin/redis-server", "redis-server *:6379", "redis-server"},
		{"/usr/bin/memcached", "memcached -p 11211", "memcached"},
		{"/usr/lib/postgresql/15/bin/postgres", "postgres -D /var/lib/postgresql", "postgres"},
		{"/usr/sbin/mysqld", "/usr/sbin/mysqld", "mysqld"},
		{"/usr/sbin/mariadbd", "/usr/sbin/mariadbd", "mysqld"},
		{"/usr/bin/mongod", "mongod --config /etc/mongod.conf", "mongod"},
		{"/usr/lib/jvm/bin/java", "java -Xms1g org.elasticsearch.bootstrap.Elasticsearch", "elasticsearch"},
		{"/usr/lib/jvm/bin/java", "java org.opensearch.bootstrap.OpenSearch", "opensearch"},
		{"/usr/sbin/vsftpd", "vsftpd", "vsftpd"},
		{"/usr/sbin/proftpd", "proftpd: (accepting connections)", "proftpd"},
		{"/usr/sbin/pure-ftpd", "pure-ftpd (SERVER)", "pure-ftpd"},
		{"/usr/sbin/named", "named -u bind", "named"},
		{"/usr/sbin/unbound", "unbound -d", "unbound"},
		{"/usr/sbin/dnsmasq", "dnsmasq -k", "dnsmasq"},
		{"/usr/lib/systemd/systemd-resolved", "systemd-resolved", "systemd-resolved"},
		{"/usr/sbin/chronyd", "chronyd -F 1", "chronyd"},
		{"/usr/sbin/ntpd", "ntpd -g", "ntpd"},
		{"/usr/lib/postfix/sbin/master", "/usr/lib/postfix/sbin/master -w", "postfix"},
		{"/usr/sbin/exim4", "exim4 -bd -q30m", "exim"},
		{"/usr/sbin/dovecot", "dovecot -F", "dovecot"},
		{"/usr/sbin/smbd", "smbd --foreground", "smbd"},
		{"/usr/sbin/nmbd", "nmbd --foreground", "nmbd"},
		{"/usr/sbin/rpcbind", "rpcbind -f -w", "rpcbind"},
		{"/usr/sbin/cupsd", "cupsd -l", "cupsd"},
		{"/usr/sbin/avahi-daemon", "avahi-daemon: running", "avahi-daemon"},
		{"/usr/bin/dockerd", "dockerd -H fd://", "dockerd"},
		{"/usr/bin/containerd", "containerd", "containerd"},
		{"/usr/bin/kubelet", "kubelet --config", "kubelet"},
		{"/usr/bin/etcd", "etcd --data-dir", "etcd"},
		{"/usr/bin/node", "node server.js", "node"},
		{"/usr/bin/python3.11", "python3 -m http.server 8000", "python http.server"},
		{"/usr/sbin/php-fpm8.2", "php-fpm: master process", "php-fpm"},
		{"/usr/bin/python3", "/usr/bin/python3 /usr/bin/gunicorn app:app", "gunicorn"},
		{"/usr/bin/uwsgi-core", "uwsgi --ini app.ini", "uwsgi"},
	} {
		s := owned("0.0.0.0", 40000, proc(1, c.exe, c.cmdline, "root", 0))
		p, _ := programOf(&s)
		if p == nil || p.name != c.want {
			t.Errorf("%s (%s): recognised as %v, want %s", c.exe, c.cmdline, p, c.want)
		}
	}
	docker := owned("0.0.0.0", 8080, proc(1, "/usr/bin/docker-proxy", "docker-proxy -host-port 8080", "root", 0))
	if name, _ := forwarderOf(&docker); name != "docker-proxy" {
		t.Error("docker-proxy is not known as a forwarder")
	}
}
