//go:build linux

package firewall

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

// The real frontends (ufw, firewalld) run inside a lab's server namespace: their commands write
// the namespace's ruleset, and every listener's verdict is checked against the kernel's answer to
// probes from the client namespace. Each runs under `ip netns exec` (the namespace's own netfilter,
// /proc/sys/net and /sys) and `unshare --mount`, with temporary copies bound over its config and
// state directories, a tmpfs on /run and /bin/true over /sbin/modprobe: the host's firewall, its
// /etc and its kernel modules are left as they were (hostUntouched checks the first two).

// realListener is one listener of a real frontend's lab: addr "" is dual-stack on every address
// (listen.py's "tcp:22"), else the listener is on that address alone ("0.0.0.0", "::" IPv6 only,
// or one of the server's addresses).
type realListener struct {
	proto string
	addr  string
	port  uint16
}

func (l realListener) spec() string {
	if l.addr == "" {
		return l.proto + ":" + itoa(l.port)
	}
	return l.proto + ":" + l.addr + ":" + itoa(l.port)
}

// listen is the address portwatch asks about: the zero Addr for a dual-stack listener, as collect
// does (fwKeyOf).
func (l realListener) listen() netip.Addr {
	if l.addr == "" {
		return netip.Addr{}
	}
	return netip.MustParseAddr(l.addr)
}

// sources are the clients whose probes reach the listener: those of its families.
func (l realListener) sources() []string {
	switch {
	case l.addr == "":
		return []string{cliAddr4, cli2Addr4, cliAddr6}
	case netip.MustParseAddr(l.addr).Is4():
		return []string{cliAddr4, cli2Addr4}
	}
	return []string{cliAddr6}
}

func realSpecs(ls []realListener) []string {
	var out []string
	for _, l := range ls {
		out = append(out, l.spec())
	}
	return out
}

func realProbes(ls []realListener) []probe {
	var ps []probe
	for _, l := range ls {
		for _, src := range l.sources() {
			ps = append(ps, probe{l.proto, src, l.port})
		}
	}
	return ps
}

// listenerOf is the listener a probe reached: the one of its port and protocol whose families hold
// the probe's source.
func listenerOf(ls []realListener, p probe) (realListener, bool) {
	for _, l := range ls {
		if l.proto == p.proto && l.port == p.port && slices.Contains(l.sources(), p.src) {
			return l, true
		}
	}
	return realListener{}, false
}

// realOutcome is how each listener's verdict compares with the kernel's answers to its probes:
// "right" when every probe's says what the kernel did, "unknown" when one cannot tell, "wrong" when
// one says otherwise (the worst wins), with what went wrong.
func realOutcome(rs *Ruleset, ls []realListener, seen map[probe]string) (map[realListener]string, []string) {
	out := map[realListener]string{}
	var wrong []string
	for _, l := range ls {
		out[l] = "right"
	}
	pubs := rs.Published()
	for p, kernel := range seen {
		l, ok := listenerOf(ls, p)
		if !ok {
			wrong = append(wrong, fmt.Sprintf("probe %s %s %d reached no listener of the lab", p.proto, p.src, p.port))
			continue
		}
		src := netip.MustParseAddr(p.src)
		dst := netip.MustParseAddr(srvAddr4)
		if src.Is6() {
			dst = netip.MustParseAddr(srvAddr6)
		}
		v := rs.Evaluate(l.proto, l.listen(), l.port).At(dst)
		for _, pub := range pubs {
			if pub.Proto == l.proto && pub.HostPort == l.port && (pub.Host.IsUnspecified() || pub.Host == dst) && pub.Host.Is4() == dst.Is4() {
				v = pub.Verdict // the DNAT sends it on: the published port's verdict is the kernel's way
			}
		}
		got := v.From(src)
		switch {
		case string(got) == kernel:
		case got == Unknown:
			if out[l] == "right" {
				out[l] = "unknown"
			}
			wrong = append(wrong, fmt.Sprintf("%s from %s: kernel %s, verdict unknown (%s)", l.spec(), p.src, kernel, v.Reason))
		default:
			out[l] = "wrong"
			wrong = append(wrong, fmt.Sprintf("%s from %s: kernel %s, verdict %s (%+v)", l.spec(), p.src, kernel, got, v))
		}
	}
	sort.Strings(wrong)
	return out, wrong
}

// agreesWithKernelAt checks every listener's verdict against the kernel's answers: none unknown,
// none wrong, every probe answered.
func agreesWithKernelAt(t *testing.T, rs *Ruleset, ls []realListener, seen map[probe]string) {
	t.Helper()
	if want := len(realProbes(ls)); len(seen) != want {
		t.Errorf("%d probes, want %d", len(seen), want)
	}
	if _, bad := realOutcome(rs, ls, seen); len(bad) > 0 {
		t.Errorf("verdicts that do not say what the kernel did:\n%s", strings.Join(bad, "\n"))
	}
}

// inPrivateMounts runs a shell script in the lab's server namespace and a mount namespace of its
// own, after binding each temporary copy over its path (dst ← src), /run on a tmpfs and /bin/true
// over /sbin/modprobe (no frontend loads a kernel module for the host).
func (l *lab) inPrivateMounts(binds [][2]string, script string) *exec.Cmd {
	var pre []string
	for _, b := range binds {
		pre = append(pre, fmt.Sprintf("mount --bind %q %q", b[1], b[0]))
	}
	pre = append(pre, "mount -t tmpfs tmpfs /run", "if [ -e /sbin/modprobe ]; then mount --bind /bin/true /sbin/modprobe; fi")
	full := "set -e\n" + strings.Join(pre, "\n") + "\n" + script
	return exec.Command("ip", "netns", "exec", l.srv, "unshare", "--mount", "--propagation", "private", "sh", "-c", full)
}

// copyTree copies a directory (or a file) to dst, keeping modes: a frontend's private config.
func copyTree(tb testing.TB, src, dst string) {
	tb.Helper()
	if out, err := exec.Command("cp", "-a", src, dst).CombinedOutput(); err != nil {
		tb.Fatalf("cp -a %s %s: %v %s", src, dst, err, out)
	}
}

// hostState is what a frontend run must leave as it was: the host's ruleset (its frontends'
// tables and chains only: other daemons of a shared CI machine may change theirs meanwhile) and
// every file under the frontend's own paths.
func hostState(tb testing.TB, paths ...string) string {
	tb.Helper()
	var b strings.Builder
	out, err := exec.Command("nft", "list", "ruleset").Output()
	if err != nil {
		tb.Fatalf("nft list ruleset on the host: %v", err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, "ufw") || strings.Contains(line, "firewalld") {
			b.WriteString(line + "\n")
		}
	}
	for _, p := range paths {
		_ = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				fmt.Fprintf(&b, "%s: %v\n", path, err)
				return nil
			}
			info, err := d.Info()
			if err != nil {
				return nil
			}
			sum := ""
			if info.Mode().IsRegular() {
				if data, err := os.ReadFile(path); err == nil {
					h := sha256.Sum256(data)
					sum = hex.EncodeToString(h[:])
				}
			}
			fmt.Fprintf(&b, "%s %v %s\n", path, info.Mode(), sum)
			return nil
		})
	}
	return b.String()
}

// hostUntouched fails the test, at its end, when the host's firewall or the frontend's files changed.
func hostUntouched(t *testing.T, paths ...string) {
	before := hostState(t, paths...)
	t.Cleanup(func() {
		if after := hostState(t, paths...); after != before {
			t.Errorf("the host's firewall or files changed:\n%s", lineDiff(strings.Split(before, "\n"), strings.Split(after, "\n")))
		}
	})
}

// realAddressing gives the server's veth a link-local address the recording can know (the
// kernel's comes from a random MAC) and, as a server has, a default route (through the client).
func (l *lab) realAddressing() {
	run(l.tb, "", "ip", "-n", l.srv, "addr", "flush", "dev", "veth0", "scope", "link")
	run(l.tb, "", "ip", "-n", l.srv, "addr", "add", "fe80::1/64", "dev", "veth0", "nodad")
	run(l.tb, "", "ip", "-n", l.srv, "route", "add", "default", "via", cliAddr4)
	run(l.tb, "", "ip", "-n", l.srv, "-6", "route", "add", "default", "via", cliAddr6)
	var got []Route
	var err error
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if got, err = Routes(l.pid); err == nil && fmt.Sprint(got) == fmt.Sprint(realRoutes) {
			return // the local route of fe80::1 comes a moment after its address
		}
	}
	l.tb.Errorf("Routes: %v %v, want %v", got, err, realRoutes)
}

// realRoutes are the lab server's routes (realAddressing), for the verdicts that decide an input
// interface by the route back to the source.
var realRoutes = []Route{{netip.MustParsePrefix("0.0.0.0/0"), "veth0", netip.MustParseAddr(cliAddr4)}, {netip.MustParsePrefix("10.200.0.0/24"), "veth0", netip.Addr{}},
	{netip.MustParsePrefix("fd00:200::/64"), "veth0", netip.Addr{}}, {netip.MustParsePrefix("fe80::/64"), "veth0", netip.Addr{}}, {netip.MustParsePrefix("::/0"), "veth0", netip.MustParseAddr(cliAddr6)},
	{netip.MustParsePrefix("fd00:200::1/128"), "veth0", netip.Addr{}}, {netip.MustParsePrefix("fe80::1/128"), "veth0", netip.Addr{}}}
