package assess

import (
	"strings"
	"testing"

	"github.com/portwatch/portwatch/sockets"
)

// Every program of the catalog is reachable: no exe name is claimed by an
// earlier program with the same arguments, which would shadow it.
func TestNoProgramIsShadowed(t *testing.T) {
	for i := range programs {
		pr := &programs[i]
		for _, e := range pr.exes {
			for _, j := range byExe[e] {
				if j < i && len(programs[j].args) == 0 && len(pr.args) == 0 {
					t.Errorf("%s (%s) is shadowed by %s", pr.name, e, programs[j].name)
				}
			}
		}
	}
	seen := map[serviceKey]string{}
	for _, e := range catalog {
		for _, p := range []sockets.Proto{sockets.TCP, sockets.UDP} {
			if e.protos.covers(p) {
				k := serviceKey{e.Port, p}
				if prev, ok := seen[k]; ok {
					t.Errorf("port %d/%s twice: %s and %s", e.Port, p, prev, e.Name)
				}
				seen[k] = e.Name
			}
		}
	}
}

// The control channels and secondary ports the issue named are known, by
// port and by the program that serves them.
func TestWiderCatalogNamesControlPorts(t *testing.T) {
	kb := testKnowledge(t)
	named := packaged(proc(400, "/usr/sbin/named", "/usr/sbin/named -f -u bind", "bind", 105), "bind9", "1:9.18.28-1", "named.service")
	unbound := packaged(proc(401, "/usr/sbin/unbound", "/usr/sbin/unbound -d -p", "unbound", 106), "unbound", "1.17.1-2", "unbound.service")
	tomcat := packaged(proc(402, "/usr/lib/jvm/java-17-openjdk-amd64/bin/java", "/usr/lib/jvm/java-17-openjdk-amd64/bin/java -Dcatalina.base=/var/lib/tomcat10 org.apache.catalina.startup.Bootstrap start", "tomcat", 107), "openjdk-17-jre-headless", "17.0.13", "tomcat10.service")
	tor := packaged(proc(403, "/usr/bin/tor", "/usr/bin/tor --defaults-torrc /usr/share/tor/tor-service-defaults-torrc -f /etc/tor/torrc --RunAsDaemon 0", "debian-tor", 108), "tor", "0.4.7.16", "tor@default.service")
	beam := packaged(proc(404, "/usr/lib/erlang/erts-13.1.5/bin/beam.smp", "/usr/lib/erlang/erts-13.1.5/bin/beam.smp -- -root /usr/lib/erlang -sname node1", "app", 1000), "erlang-base", "1:25.2.3", "app.service")
	for _, c := range []struct {
		s       sockets.Socket
		name    string
		program string
	}{
		{owned("127.0.0.1", 953, named), "rndc", "named"},
		{owned("127.0.0.1", 8953, unbound), "unbound-control", "unbound"},
		{owned("127.0.0.1", 8005, tomcat), "tomcat-shutdown", "tomcat"},
		{owned("127.0.0.1", 9050, tor), "tor-socks", "tor"},
		{owned("127.0.0.1", 9051, tor), "tor-control", "tor"},
		{owned("0.0.0.0", 44321, beam), "erlang-dist", "erlang"},
		{owned("127.0.0.1", 4369, proc(405, "/usr/bin/epmd", "/usr/bin/epmd -systemd", "epmd", 109)), "epmd", "epmd"},
		// The stats page beside the proxy: named by its port, not "http".
		{owned("127.0.0.1", 8404, packaged(proc(406, "/usr/sbin/haproxy", "/usr/sbin/haproxy -Ws -f /etc/haproxy/haproxy.cfg", "haproxy", 110), "haproxy", "2.6.12-1", "haproxy.service")), "haproxy-stats", "haproxy"},
	} {
		v := judged(kb, c.s).Verdicts[0]
		if v.Service.Name != c.name || v.Service.Program != c.program || hasCode(v.Findings, CodeUnknownListener) != nil {
			t.Errorf("%s on %d: %q by %q (%s) %v", c.program, c.s.LPort, v.Service.Name, v.Service.Program, v.Service.How(), v.Findings)
		}
	}
}

// NFS's helpers (rpc.statd, rpc.mountd) on the ports rpcbind hands out are
// meant to be reached by the exports' clients: on all interfaces they are
// MEDIUM with the advice to restrict who reaches them, not a HIGH "bind it
// to 127.0.0.1", which would switch NFS off.
func TestNFSHelpersAreMeantToBeReachedByClients(t *testing.T) {
	statd := packaged(proc(420, "/usr/sbin/rpc.statd", "/sbin/rpc.statd", "statd", 110), "nfs-common", "1:2.6.2-4", "rpc-statd.service")
	mountd := packaged(proc(421, "/usr/sbin/rpc.mountd", "/usr/sbin/rpc.mountd", "root", 0), "nfs-kernel-server", "1:2.6.2-4", "nfs-mountd.service")
	for _, c := range []struct {
		p    *sockets.Process
		name string
	}{{statd, "nfs-statd"}, {mountd, "nfs-mountd"}} {
		v := judgeOne(t, owned("0.0.0.0", 41234, c.p))
		if v.Service.Name != c.name || v.Risk != RiskMedium || hasCode(v.Findings, CodeInternalExposed) != nil || hasCode(v.Findings, CodePublicExposed) == nil {
			t.Errorf("%s on all interfaces: %s risk %s %v", c.p.Exe, v.Service.Name, v.Risk, v.Findings)
		}
	}
}

// A service whose packages run it under different accounts (Debian's
// varnish unit runs varnishd as vcache, upstream's manager as varnish) is
// at home under any of them; another account is still unusual.
func TestUsualUserMayBeAnyOfTheDistributionsAccounts(t *testing.T) {
	for _, user := range []string{"vcache", "varnish"} {
		p := packaged(proc(430, "/usr/sbin/varnishd", "/usr/sbin/varnishd -j unix,user=vcache -F -a :6081", user, 120), "varnish", "7.1.1-1.1", "varnish.service")
		if v := judgeOne(t, owned("0.0.0.0", 6081, p)); hasCode(v.Findings, CodeUnusualUser) != nil {
			t.Errorf("varnishd as %s: %v", user, v.Findings)
		}
	}
	p := packaged(proc(431, "/usr/sbin/varnishd", "/usr/sbin/varnishd -F -a :6081", "www-data", 33), "varnish", "7.1.1-1.1", "varnish.service")
	if f := hasCode(judgeOne(t, owned("0.0.0.0", 6081, p)).Findings, CodeUnusualUser); f == nil || !strings.Contains(f.Text, "varnish or vcache") {
		t.Errorf("varnishd as www-data: %v", f)
	}
}
