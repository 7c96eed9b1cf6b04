//go:build linux

package firewall

import (
	"io/fs"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestRealFirewalld runs the real firewalld (Debian's 1.3, nftables backend) in a lab's server
// namespace, on a D-Bus system bus of its own (a private dbus-daemon whose socket is in the test's
// directory), with its config a temporary copy of /etc/firewalld bound over it in a mount
// namespace of its own. The admin's commands are firewall-cmd's, --permanent then --reload, so
// the zones' XML is written as firewalld writes it: the deciding rule is then said as the
// firewall-cmd command that made it (the service's name recovered from the zone and service XML).
func TestRealFirewalld(t *testing.T) {
	needLab(t, "firewalld", "firewall-cmd", "dbus-daemon")
	hostUntouched(t, "/etc/firewalld")
	l := newLab(t, "realfwd", realSpecs(realFirewalldListeners)...)
	l.realAddressing()

	dir := t.TempDir()
	etc := filepath.Join(dir, "etc")
	copyTree(t, "/etc/firewalld", etc)
	bus := filepath.Join(dir, "bus")
	conf := filepath.Join(dir, "bus.conf")
	if err := os.WriteFile(conf, []byte(privateBusConfig(bus)), 0o644); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "DBUS_SYSTEM_BUS_ADDRESS=unix:path="+bus)
	daemon := exec.Command("dbus-daemon", "--config-file="+conf, "--nofork", "--nopidfile")
	daemon.Stderr = os.Stderr
	if err := daemon.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = daemon.Process.Kill(); _ = daemon.Wait() })
	waitFor(t, "the private bus", func() bool { _, err := os.Stat(bus); return err == nil })

	fw := l.inPrivateMounts([][2]string{{"/etc/firewalld", etc}},
		"exec firewalld --nofork --nopid --log-target file --log-file "+filepath.Join(dir, "firewalld.log"))
	fw.Env = env
	fw.Stdout, fw.Stderr = os.Stderr, os.Stderr
	if err := fw.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = fw.Process.Signal(syscall.SIGTERM); _ = fw.Wait() })
	fwcmd := func(args ...string) string {
		cmd := exec.Command("ip", append([]string{"netns", "exec", l.srv, "firewall-cmd"}, args...)...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			log, _ := os.ReadFile(filepath.Join(dir, "firewalld.log"))
			t.Fatalf("firewall-cmd %s: %v\n%s\nfirewalld's log:\n%s", strings.Join(args, " "), err, out, log)
		}
		return strings.TrimSpace(string(out))
	}
	waitFor(t, "firewalld", func() bool {
		cmd := exec.Command("ip", "netns", "exec", l.srv, "firewall-cmd", "--state")
		cmd.Env = env
		out, _ := cmd.Output()
		return strings.TrimSpace(string(out)) == "running"
	})
	for _, commands := range [][][]string{realFirewalldCommands, realFirewalldLater} {
		for _, c := range commands {
			if strings.HasPrefix(c[0], "--set-log-denied") {
				fwcmd(c...) // firewalld.conf's: permanent and runtime at once
				continue
			}
			fwcmd(append([]string{"--permanent"}, c...)...)
		}
		fwcmd("--reload")
		seen := l.probeAll(realProbes(realFirewalldListeners))
		if *record {
			saveFirewalldConfig(t, etc, realFirewalldConfigDir)
		} else {
			// the zone files firewall-cmd writes now are the ones the replay reads
			for rel, b := range firewalldFiles(t, etc, "/usr/lib/firewalld") {
				if was, err := os.ReadFile(filepath.Join(realFirewalldConfigDir, rel)); err != nil || string(was) != string(b) {
					t.Errorf("%s: firewall-cmd now writes another file (record again with -record):\n%s", rel, b)
				}
			}
		}
		l.read(seen)
	}
}

// realFirewalldLater are the second read's commands: the server's interface moves to the dmz
// zone, which drops what it does not accept (10.200.0.3 stays in work, by its source).
var realFirewalldLater = [][]string{
	{"--zone=dmz", "--add-interface=veth0"},
	{"--zone=dmz", "--set-target=DROP"},
	{"--zone=dmz", "--add-service=http"},
	{"--zone=dmz", "--add-rich-rule=rule family=\"ipv4\" source address=\"10.200.0.2\" port port=\"5432\" protocol=\"tcp\" reject type=\"icmp-port-unreachable\""},
	{"--zone=dmz", "--add-icmp-block=echo-request"},
	{"--set-log-denied=unicast"}, // log rules before every refusal, for unicast packets (meta pkttype)
}

func checkRealFirewalldLater(t *testing.T, rs *Ruleset, seen map[probe]string) {
	rs.setFirewalld(recordedFirewalldConfig(t))
	rs.SetLocal(firewalldLocal)
	rs.SetRoutes(realRoutes)
	for p, want := range map[probe]string{
		{"tcp", cliAddr4, 22}: "open", {"tcp", cli2Addr4, 22}: "filtered", {"tcp", cli2Addr4, 3306}: "open",
		{"tcp", cliAddr4, 8080}: "filtered", {"tcp", cliAddr4, 5432}: "closed", {"tcp", cliAddr6, 5432}: "filtered",
		{"tcp", cliAddr6, 80}: "open",
	} {
		if seen[p] != want {
			t.Errorf("kernel: %s from %s to %d: %s, the lab expects %s", p.proto, p.src, p.port, seen[p], want)
		}
	}
	agreesWithKernelAt(t, rs, realFirewalldListeners, seen)
	for _, c := range []struct {
		proto, addr string
		port        uint16
		source      string
	}{
		{"tcp", srvAddr4, 22, "firewall-cmd --zone=dmz --add-service=ssh"},
		{"tcp", srvAddr6, 80, "firewall-cmd --zone=dmz --add-service=http"},
		{"tcp", srvAddr4, 3306, "firewall-cmd --zone=work --add-service=mysql"},
		{"tcp", srvAddr6, 8080, "firewalld zone dmz"},
	} {
		v := rs.Evaluate(c.proto, netip.MustParseAddr(c.addr), c.port)
		if v.Frontend != "firewalld" || v.Source != c.source {
			t.Errorf("%s %s %d: frontend %q, source %q, want firewalld, %q (%s)", c.proto, c.addr, c.port, v.Frontend, v.Source, c.source, v.Rule)
		}
	}
}

// realFirewalldConfigDir holds the zone files firewall-cmd wrote in TestRealFirewalld and the
// services and zones they name from /usr/lib/firewalld, saved with the recording (-record) so the
// replay recovers the same names without firewalld installed.
const realFirewalldConfigDir = "testdata/frontends/firewalld-real"

// realFirewalldCommands are the admin's, each run with --permanent, then --reload.
var realFirewalldCommands = [][]string{
	{"--zone=public", "--add-service=http"},
	{"--zone=public", "--add-service=https"},
	{"--zone=public", "--add-port=8080/tcp"},
	{"--zone=public", "--add-port=6000-6002/tcp"},
	{"--zone=public", "--add-port=5060/udp"},
	{"--zone=public", "--add-rich-rule=rule family=\"ipv4\" source address=\"10.200.0.2\" port port=\"5432\" protocol=\"tcp\" accept"},
	{"--zone=public", "--add-rich-rule=rule family=\"ipv6\" source address=\"fd00:200::2\" port port=\"7000\" protocol=\"tcp\" accept"},
	{"--zone=public", "--add-rich-rule=rule family=\"ipv4\" source address=\"10.200.0.2\" port port=\"8081\" protocol=\"tcp\" reject"},
	{"--zone=public", "--add-rich-rule=rule family=\"ipv6\" source address=\"fd00:200::2\" service name=\"http\" drop"},
	{"--zone=public", "--add-rich-rule=rule family=\"ipv4\" source address=\"10.200.0.2\" port port=\"2222\" protocol=\"tcp\" accept limit value=\"30/m\""},
	// the second client address is another zone's, by source
	{"--zone=work", "--add-source=10.200.0.3/32"},
	{"--zone=work", "--add-service=mysql"},
	{"--zone=work", "--remove-service=ssh"},
}

var realFirewalldListeners = []realListener{
	{"tcp", "", 22}, {"tcp", "", 80}, {"tcp", "", 443}, {"tcp", "", 3306}, {"tcp", "", 5432},
	{"tcp", "", 8080}, {"tcp", "", 8081}, {"tcp", "", 6001}, {"tcp", "", 7000}, {"tcp", "", 9999}, {"tcp", "", 2222},
	{"tcp", srvAddr4, 8443}, {"tcp", "::", 8445},
	{"udp", "", 5060}, {"udp", "", 546}, {"udp", srvAddr4, 5353}, {"udp", srvAddr6, 7001},
}

func checkRealFirewalld(t *testing.T, rs *Ruleset, seen map[probe]string) {
	rs.setFirewalld(recordedFirewalldConfig(t))
	rs.SetLocal(firewalldLocal)
	rs.SetRoutes(realRoutes)
	for p, want := range map[probe]string{
		{"tcp", cliAddr4, 22}: "open", {"tcp", cli2Addr4, 22}: "filtered", {"tcp", cli2Addr4, 3306}: "open",
		{"tcp", cliAddr4, 3306}: "filtered", {"tcp", cliAddr4, 5432}: "open", {"tcp", cliAddr6, 5432}: "filtered",
		{"tcp", cliAddr6, 80}: "filtered", {"tcp", cliAddr4, 80}: "open", {"tcp", cliAddr6, 7000}: "open",
	} {
		if seen[p] != want {
			t.Errorf("kernel: %s from %s to %d: %s, the lab expects %s", p.proto, p.src, p.port, seen[p], want)
		}
	}
	agreesWithKernelAt(t, rs, realFirewalldListeners, seen)
	// the deciding rule as the admin typed it
	for _, c := range []struct {
		proto, addr string
		port        uint16
		source      string
	}{
		{"tcp", srvAddr4, 22, "firewall-cmd --zone=public --add-service=ssh"},
		{"tcp", srvAddr6, 80, "firewall-cmd --zone=public --add-service=http"},
		{"tcp", srvAddr4, 443, "firewall-cmd --zone=public --add-service=https"},
		{"tcp", srvAddr4, 3306, "firewall-cmd --zone=work --add-service=mysql"},
		{"tcp", srvAddr4, 8080, "firewall-cmd --zone=public --add-port=8080/tcp"},
		{"tcp", srvAddr4, 6001, "firewall-cmd --zone=public --add-port=6000-6002/tcp"},
		{"udp", srvAddr6, 5060, "firewall-cmd --zone=public --add-port=5060/udp"},
		{"tcp", srvAddr4, 5432, `firewall-cmd --zone=public --add-rich-rule='rule family="ipv4" source address="10.200.0.2" port port="5432" protocol="tcp" accept'`},
		{"tcp", srvAddr6, 7000, `firewall-cmd --zone=public --add-rich-rule='rule family="ipv6" source address="fd00:200::2" port port="7000" protocol="tcp" accept'`},
		{"tcp", srvAddr4, 9999, "firewalld zone public"},
		{"tcp", srvAddr4, 2222, `firewall-cmd --zone=public --add-rich-rule='rule family="ipv4" source address="10.200.0.2" port port="2222" protocol="tcp" accept limit value="30/m"'`},
	} {
		v := rs.Evaluate(c.proto, netip.MustParseAddr(c.addr), c.port)
		if v.Frontend != "firewalld" || v.Source != c.source {
			t.Errorf("%s %s %d: frontend %q, source %q, want firewalld, %q (%s)", c.proto, c.addr, c.port, v.Frontend, v.Source, c.source, v.Rule)
		}
	}
	// the rules that refuse some sources, in the notes' rules: the rich reject and drop
	v := rs.Evaluate("tcp", netip.MustParseAddr(srvAddr4), 8081)
	if v.Kind != Filtered || len(v.Exceptions) != 1 || v.Exceptions[0].Kind != Closed || v.From(netip.MustParseAddr(cliAddr4)) != Closed {
		t.Errorf("8081, rejected by a rich rule from 10.200.0.2, else the zone's reject: %+v", v)
	}
}

// privateBusConfig is a D-Bus system bus for one test: its socket at path, root's only.
func privateBusConfig(path string) string {
	return `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=` + path + `</listen>
  <auth>EXTERNAL</auth>
  <policy user="root">
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
`
}

// waitFor waits up to 30 s for ready.
func waitFor(t *testing.T, what string, ready func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if ready() {
			return
		}
	}
	t.Fatalf("%s not ready after 30 s", what)
}

// saveFirewalldConfig keeps the zone files firewall-cmd wrote under etc and, from
// /usr/lib/firewalld, the services they name, in dst (its old content replaced).
func saveFirewalldConfig(t *testing.T, etc, dst string) {
	if err := os.RemoveAll(dst); err != nil {
		t.Fatal(err)
	}
	zones := firewalldFiles(t, etc, "/usr/lib/firewalld")
	for rel, b := range zones {
		path := filepath.Join(dst, rel)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// firewalldFiles are the zone files under etc ("etc/zones/public.xml") and the services they
// name from lib ("lib/services/ssh.xml"), with their contents.
func firewalldFiles(t *testing.T, etc, lib string) map[string][]byte {
	out := map[string][]byte{}
	paths, _ := filepath.Glob(filepath.Join(etc, "zones", "*.xml"))
	names := map[string]bool{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out["etc/zones/"+filepath.Base(p)] = b
		for _, m := range regexp.MustCompile(`service name="([^"]+)"`).FindAllSubmatch(b, -1) {
			names[string(m[1])] = true
		}
	}
	for n := range names {
		b, err := os.ReadFile(filepath.Join(lib, "services", n+".xml"))
		if err != nil {
			t.Fatal(err)
		}
		out["lib/services/"+n+".xml"] = b
	}
	return out
}

// recordedFirewalldConfig reads the saved config as LoadFirewalld reads firewalld's: from a copy
// of our own (files of a checkout may be group-writable, and are the user's, not root's).
func recordedFirewalldConfig(t *testing.T) *firewalldConfig {
	dir := t.TempDir()
	err := filepath.WalkDir(realFirewalldConfigDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(realFirewalldConfigDir, path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dir, rel), 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	_ = os.Chmod(dir, 0o755)
	return readFirewalld(filepath.Join(dir, "etc"), filepath.Join(dir, "lib"), uint32(os.Getuid()))
}
