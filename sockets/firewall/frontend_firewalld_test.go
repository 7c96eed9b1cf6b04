//go:build linux

package firewall

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeFwd writes firewalld config files under dir (rel path → content), modes 0644 and 0755.
func writeFwd(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for rel, content := range files {
		path := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

const fwdZoneXML = `<?xml version="1.0" encoding="utf-8"?>
<zone>
  <service name="ssh"/>
  <port port="8080" protocol="tcp"/>
  <rule family="ipv4"><source address="10.0.0.0/8"/><port port="5432" protocol="tcp"/><accept/></rule>
</zone>`

const fwdSSHXML = `<service><port protocol="tcp" port="22"/></service>`

// TestFirewalldCommands: a zone's rules said as firewall-cmd's options, and what is not the
// zone's (a port it does not list, a rich rule of another source) is no command.
func TestFirewalldCommands(t *testing.T) {
	dir := t.TempDir()
	writeFwd(t, dir, map[string]string{"etc/zones/public.xml": fwdZoneXML, "lib/services/ssh.xml": fwdSSHXML})
	cfg := readFirewalld(filepath.Join(dir, "etc"), filepath.Join(dir, "lib"), uint32(os.Getuid()))
	z := cfg.zones["public"]
	if z == nil {
		t.Fatalf("zone public not read: %+v", cfg)
	}
	for text, want := range map[string]string{
		"tcp dport 22 accept":                               "--add-service=ssh",
		"tcp dport 8080 ct state { new, untracked } accept": "--add-port=8080/tcp",
		"ip saddr 10.0.0.0/8 tcp dport 5432 accept":         `--add-rich-rule='rule family="ipv4" source address="10.0.0.0/8" port port="5432" protocol="tcp" accept'`,
		"ip saddr 10.9.0.0/16 tcp dport 5432 accept":        "",
		"tcp dport 23 accept":                               "",
		"udp dport 22 accept":                               "",
		"tcp dport 22 drop":                                 "",
		"tcp dport 22 limit rate 10/minute accept":          "", // a rich rule's, and the zone has none for it
	} {
		if got := z.command(cfg, text); got != want {
			t.Errorf("%s: %q, want %q", text, got, want)
		}
	}
}

// TestFirewalldHostileFiles: only root's files (here: the test's user's), regular, writable by no
// one else, bounded; names and addresses as firewalld writes them. Anything else is not read.
func TestFirewalldHostileFiles(t *testing.T) {
	owner := uint32(os.Getuid())
	read := func(files map[string]string, prep func(dir string)) *firewalldConfig {
		dir := t.TempDir()
		writeFwd(t, dir, files)
		if prep != nil {
			prep(dir)
		}
		return readFirewalld(filepath.Join(dir, "etc"), filepath.Join(dir, "lib"), owner)
	}
	base := map[string]string{"etc/zones/public.xml": fwdZoneXML, "lib/services/ssh.xml": fwdSSHXML}
	if cfg := read(base, func(dir string) { _ = os.Chmod(filepath.Join(dir, "etc/zones/public.xml"), 0o666) }); cfg.zones["public"] != nil {
		t.Error("a world-writable zone file was read")
	}
	if cfg := read(base, func(dir string) { _ = os.Chmod(filepath.Join(dir, "etc/zones"), 0o777) }); cfg.zones["public"] != nil {
		t.Error("a zone file in a world-writable directory was read")
	}
	if cfg := read(base, func(dir string) {
		p := filepath.Join(dir, "etc/zones/public.xml")
		_ = os.Rename(p, p+".real")
		_ = os.Symlink(p+".real", p)
	}); cfg.zones["public"] != nil {
		t.Error("a zone file that is a link was read")
	}
	other := t.TempDir()
	writeFwd(t, other, base)
	if cfg := readFirewalld(filepath.Join(other, "etc"), filepath.Join(other, "lib"), owner+1); len(cfg.zones) != 0 {
		t.Error("another user's zone files were read")
	}
	big := map[string]string{"etc/zones/public.xml": "<zone>" + strings.Repeat("<service name=\"ssh\"/>", fwdMaxBytes/20) + "</zone>", "lib/services/ssh.xml": fwdSSHXML}
	if cfg := read(big, nil); cfg.zones["public"] != nil {
		t.Error("a zone file over the bound was read")
	}
	// a service name that is a path, a rich rule whose address would break out of its quotes, a
	// rule with a part not understood (log), two actions, a limit breaking its quotes, a drop with a
	// reject's type, a zone with a name firewalld refuses
	odd := map[string]string{
		"etc/zones/public.xml": `<zone><service name="../../etc/passwd"/><service name="ssh"/>
<rule family="ipv4"><source address='10.0.0.1" accept'/><port port="1" protocol="tcp"/><accept/></rule>
<rule family="ipv4"><source address="10.0.0.2"/><port port="2" protocol="tcp"/><log prefix="x"/><accept/></rule>
<rule family="ipv4"><source address="10.0.0.3"/><port port="3" protocol="tcp"/><accept/><drop/></rule>
<rule family="ipv4"><source address="10.0.0.4"/><port port="4" protocol="tcp"/><accept><limit value='1/m" drop'/></accept></rule>
<rule family="ipv4"><source address="10.0.0.5"/><port port="5" protocol="tcp"/><drop type="icmp-host-prohibited"/></rule></zone>`,
		"etc/zones/bad\x1bname.xml": fwdZoneXML,
		"lib/services/ssh.xml":      fwdSSHXML,
	}
	cfg := read(odd, nil)
	z := cfg.zones["public"]
	if z == nil || len(z.services) != 1 || z.services[0] != "ssh" || len(z.rich) != 0 {
		t.Errorf("odd zone: %+v", z)
	}
	if len(cfg.zones) != 1 {
		t.Errorf("zones %v: a file name with an escape was read", cfg.zones)
	}
	if got := firewalldSource(&evaluator{rs: &Ruleset{fwd: cfg}}, &chain{name: "filter_IN_public_allow"}, nil); got != "firewalld zone public" {
		t.Errorf("no rule: %q", got)
	}
}

// TestLoadFirewalld: collect's way in. The real firewalld's recorded ruleset, with its zone and
// service files under a root of their own, as /etc/firewalld and /usr/lib/firewalld: the
// deciding rule reads as the firewall-cmd command.
func TestLoadFirewalld(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("firewalld's files are read only when root's: needs root to make them")
	}
	rec, err := loadRecording(recordingPath("TestRealFirewalld"))
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	_ = os.Chmod(root, 0o755)
	files := map[string]string{}
	for _, rel := range []string{"etc/zones/public.xml", "lib/services/ssh.xml"} {
		b, err := os.ReadFile(filepath.Join(realFirewalldConfigDir, rel))
		if err != nil {
			t.Fatal(err)
		}
		files[strings.Replace(strings.Replace(rel, "etc/", "etc/firewalld/", 1), "lib/", "usr/lib/firewalld/", 1)] = string(b)
	}
	for _, d := range []string{"etc", "usr", "usr/lib"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeFwd(t, root, files)
	rs := replayRead(t, rec.Steps[0])
	if v := rs.Evaluate("tcp", netip.MustParseAddr(srvAddr4), 22); v.Source != "firewalld zone public" {
		t.Errorf("before: %q", v.Source)
	}
	rs.LoadFirewalld(root)
	if v := rs.Evaluate("tcp", netip.MustParseAddr(srvAddr4), 22); v.Source != "firewall-cmd --zone=public --add-service=ssh" {
		t.Errorf("after LoadFirewalld: %q (%s)", v.Source, v.Rule)
	}
}
