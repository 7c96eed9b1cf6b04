//go:build linux

package firewall

import (
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestRealUfw runs the real ufw (Debian's 0.36) in a lab's server namespace: ufw's own commands
// write the namespace's ruleset through iptables-nft, and each listener's verdict must say what the
// kernel did to the client's probes, with the deciding rule as the ufw command that made it.
// ufw's config (/etc/ufw, /lib/ufw, /etc/default/ufw) is a temporary copy bound over the real one
// in a mount namespace of its own; the copy loads no modules (IPT_MODULES="") and sets no sysctl
// (an empty sysctl.conf).
func TestRealUfw(t *testing.T) {
	needLab(t, "ufw", "iptables-nft")
	if out, err := exec.Command("iptables", "--version").Output(); err != nil || !strings.Contains(string(out), "nf_tables") {
		t.Skipf("ufw calls iptables, and iptables here is not iptables-nft (%s): update-alternatives --set iptables /usr/sbin/iptables-nft", strings.TrimSpace(string(out)))
	}
	hostUntouched(t, "/etc/ufw", "/lib/ufw", "/etc/default/ufw")
	l := newLab(t, "realufw", realSpecs(realUfwListeners)...)
	l.realAddressing()

	dir := t.TempDir()
	binds := [][2]string{{"/etc/ufw", dir + "/etc-ufw"}, {"/lib/ufw", dir + "/lib-ufw"}, {"/etc/default/ufw", dir + "/default-ufw"}}
	for _, b := range binds {
		copyTree(t, b[0], b[1])
	}
	if err := os.WriteFile(filepath.Join(dir, "etc-ufw", "sysctl.conf"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	def, err := os.ReadFile(dir + "/default-ufw")
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, line := range strings.Split(string(def), "\n") {
		if !strings.HasPrefix(line, "IPT_MODULES=") && !strings.HasPrefix(line, "IPT_SYSCTL=") {
			lines = append(lines, line)
		}
	}
	lines = append(lines, `IPT_MODULES=""`, "IPT_SYSCTL=/etc/ufw/sysctl.conf")
	if err := os.WriteFile(dir+"/default-ufw", []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	script := "ufw --force enable\n"
	for _, c := range realUfwCommands {
		script += c + "\n"
	}
	ufw := func(script string) {
		if out, err := l.inPrivateMounts(binds, script).CombinedOutput(); err != nil {
			t.Fatalf("ufw: %v\n%s", err, out)
		}
	}
	ufw(script)
	l.read(l.probeAll(realProbes(realUfwListeners)))
	// the admin changes their mind: the same config, changed again by ufw
	ufw(strings.Join(realUfwLater, "\n") + "\n")
	l.read(l.probeAll(realProbes(realUfwListeners)))
}

// realUfwLater are the second read's commands, on top of the first's: 10.200.0.3 is still denied
// (the first read's "deny from"), before the reject that is now the default.
var realUfwLater = []string{
	"ufw default reject incoming",
	"ufw delete allow 80,443/tcp",
	"ufw allow from 10.200.0.2",
	"ufw --force delete 1", // the insert 1 deny of 443 from 10.200.0.3
}

// realUfwCommands are what the admin typed after `ufw --force enable`, in order: ufw appends each
// rule, so the deny from 10.200.0.3 decides only the ports allowed after it, and `insert 1` puts
// one before them all.
var realUfwCommands = []string{
	"ufw allow 22/tcp",
	"ufw allow 80,443/tcp",
	"ufw limit 2222",
	"ufw deny from 10.200.0.3",
	"ufw allow from 10.200.0.2 to any port 5432",
	"ufw deny 8080/tcp",
	"ufw reject 8081/tcp",
	"ufw allow 53",
	"ufw allow proto udp from 10.200.0.0/24 to any port 5060",
	"ufw allow 6000:6002/tcp",
	"ufw allow in on veth0 to any port 9000 proto tcp",
	"ufw allow to 10.200.0.1 port 8443 proto tcp",
	"ufw allow from fd00:200::2 to any port 7000 proto tcp",
	"ufw allow 7001/udp",
	"ufw insert 1 deny from 10.200.0.3 to any port 443 proto tcp",
	// application profiles that ufw itself ships (applications.d/ufw-mailserver)
	"ufw allow IMAPS",
	"ufw allow 'Mail submission'",
	"ufw allow from 10.200.0.2 to any app SMTP",
}

var realUfwListeners = []realListener{
	{"tcp", "", 22}, {"tcp", "", 80}, {"tcp", "", 443}, {"tcp", "", 2222}, {"tcp", "", 3306},
	{"tcp", "", 5432}, {"tcp", "", 8080}, {"tcp", "", 8081}, {"tcp", "", 53}, {"tcp", "", 6001},
	{"tcp", "", 9000}, {"tcp", "", 7000}, {"tcp", "", 993}, {"tcp", "", 587}, {"tcp", "", 25},
	{"tcp", srvAddr4, 8443}, {"tcp", "0.0.0.0", 8444}, {"tcp", "::", 8445},
	{"udp", "", 53}, {"udp", "", 2222}, {"udp", "", 5060}, {"udp", "", 5432},
	{"udp", srvAddr4, 5353}, {"udp", srvAddr6, 7001},
}

func checkRealUfw(t *testing.T, rs *Ruleset, seen map[probe]string) {
	rs.SetLocal(firewalldLocal)
	rs.SetRoutes(realRoutes)
	// the kernel first: the rules must show what the test is about
	for p, want := range map[probe]string{
		{"tcp", cliAddr4, 22}: "open", {"tcp", cli2Addr4, 22}: "open", {"tcp", cli2Addr4, 443}: "filtered",
		{"tcp", cliAddr4, 3306}: "filtered", {"tcp", cli2Addr4, 5432}: "filtered", {"tcp", cliAddr6, 5432}: "filtered",
		{"tcp", cliAddr4, 8081}: "closed", {"udp", cli2Addr4, 5060}: "filtered", {"udp", cliAddr4, 5060}: "open",
		{"udp", cliAddr6, 5060}: "filtered", {"tcp", cliAddr4, 8443}: "open", {"tcp", cliAddr6, 7000}: "open",
		{"tcp", cliAddr4, 7000}: "filtered", {"udp", cliAddr4, 5353}: "filtered",
	} {
		if seen[p] != want {
			t.Errorf("kernel: %s from %s to %d: %s, the lab expects %s", p.proto, p.src, p.port, seen[p], want)
		}
	}
	agreesWithKernelAt(t, rs, realUfwListeners, seen)
	// the deciding rule as ufw's user wrote it
	for _, c := range []struct {
		proto  string
		addr   string
		port   uint16
		source string
	}{
		{"tcp", srvAddr4, 22, "ufw allow 22/tcp"}, {"tcp", srvAddr6, 22, "ufw allow 22/tcp"},
		{"tcp", srvAddr4, 80, "ufw allow 80,443/tcp"}, {"tcp", srvAddr4, 2222, "ufw limit 2222/tcp"},
		{"udp", srvAddr4, 2222, "ufw limit 2222/udp"}, {"tcp", srvAddr4, 3306, "ufw default deny incoming"},
		{"tcp", srvAddr4, 5432, "ufw allow from 10.200.0.2 to any port 5432 proto tcp"},
		{"tcp", srvAddr4, 8080, "ufw deny 8080/tcp"}, {"tcp", srvAddr4, 8081, "ufw reject 8081/tcp"},
		{"udp", srvAddr4, 53, "ufw allow 53/udp"}, {"tcp", srvAddr4, 6001, "ufw allow 6000:6002/tcp"},
		{"tcp", srvAddr4, 9000, "ufw allow in on veth0 to any port 9000 proto tcp"},
		{"tcp", srvAddr4, 8443, "ufw allow to 10.200.0.1 port 8443 proto tcp"},
		{"tcp", srvAddr6, 7000, "ufw allow from fd00:200::2 to any port 7000 proto tcp"},
		{"udp", srvAddr4, 5060, "ufw allow from 10.200.0.0/24 to any port 5060 proto udp"},
		{"udp", srvAddr6, 7001, "ufw allow 7001/udp"},
		{"tcp", srvAddr4, 993, "ufw allow IMAPS"}, {"tcp", srvAddr6, 587, "ufw allow 'Mail submission'"},
		{"tcp", srvAddr4, 25, "ufw allow from 10.200.0.2 to any app SMTP"},
	} {
		v := rs.Evaluate(c.proto, netip.MustParseAddr(c.addr), c.port)
		if v.Frontend != "ufw" || v.Source != c.source {
			t.Errorf("%s %s %d: frontend %q, source %q, want ufw, %q (%s)", c.proto, c.addr, c.port, v.Frontend, v.Source, c.source, v.Rule)
		}
	}
}

func checkRealUfwLater(t *testing.T, rs *Ruleset, seen map[probe]string) {
	rs.SetLocal(firewalldLocal)
	rs.SetRoutes(realRoutes)
	for p, want := range map[probe]string{
		{"tcp", cliAddr4, 3306}: "open", {"tcp", cli2Addr4, 3306}: "filtered", {"tcp", cliAddr6, 3306}: "closed",
		{"tcp", cliAddr6, 80}: "closed", {"udp", cliAddr6, 7001}: "open", {"tcp", cliAddr6, 8080}: "filtered",
		{"tcp", cli2Addr4, 443}: "filtered", {"tcp", cli2Addr4, 22}: "open",
	} {
		if seen[p] != want {
			t.Errorf("kernel: %s from %s to %d: %s, the lab expects %s", p.proto, p.src, p.port, seen[p], want)
		}
	}
	agreesWithKernelAt(t, rs, realUfwListeners, seen)
	for _, c := range []struct {
		proto, addr string
		port        uint16
		source      string
	}{
		{"tcp", srvAddr4, 3306, "ufw allow from 10.200.0.2"}, {"tcp", srvAddr6, 3306, "ufw default reject incoming"},
		{"tcp", srvAddr6, 80, "ufw default reject incoming"}, {"tcp", srvAddr4, 22, "ufw allow 22/tcp"},
	} {
		v := rs.Evaluate(c.proto, netip.MustParseAddr(c.addr), c.port)
		if v.Frontend != "ufw" || v.Source != c.source {
			t.Errorf("%s %s %d: frontend %q, source %q, want ufw, %q (%s)", c.proto, c.addr, c.port, v.Frontend, v.Source, c.source, v.Rule)
		}
	}
}
