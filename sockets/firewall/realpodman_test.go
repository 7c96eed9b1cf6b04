//go:build linux

package firewall

import (
	"debug/elf"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// TestRealPodman runs the real podman (Debian's 4.3, netavark's iptables rules) in a lab's server
// namespace: two containers of busybox's httpd, each published on a port, the admin's input rule that
// means to refuse one (the DNAT goes past it) and a forward rule refusing a client. Its storage,
// runtime state and network config are the test's own (--root, --runroot, --tmpdir, and temporary
// directories bound over /etc/containers/networks and /var/lib/containers).
func TestRealPodman(t *testing.T) {
	needLab(t, "podman", "iptables-nft")
	if f, err := elf.Open("/bin/busybox"); err != nil || hasInterp(f) {
		t.Skip("needs a static busybox for the container's image (apt-get install busybox-static)")
	}
	if out, err := exec.Command("iptables", "--version").Output(); err != nil || !strings.Contains(string(out), "nf_tables") {
		t.Skip("netavark calls iptables, and iptables here is not iptables-nft")
	}
	hostUntouched(t, "/etc/containers")
	l := newLab(t, "realpod", realSpecs(realPodmanListeners[:1])...) // podman holds the others
	l.realAddressing()
	dir := t.TempDir()
	for _, d := range []string{"root", "runroot", "tmp", "networks", "varlib", "rootfs/bin"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	copyTree(t, "/bin/busybox", filepath.Join(dir, "rootfs/bin/busybox"))
	run(t, "", "tar", "-C", filepath.Join(dir, "rootfs"), "-cf", filepath.Join(dir, "rootfs.tar"), ".")
	binds := [][2]string{{"/etc/containers/networks", dir + "/networks"}, {"/var/lib/containers", dir + "/varlib"}}
	podman := "podman --root " + dir + "/root --runroot " + dir + "/runroot --tmpdir " + dir + "/tmp --cgroup-manager cgroupfs --events-backend none"
	// ip netns exec's own /sys hides the cgroup hierarchy, which crun wants to see (it makes no
	// cgroup: --cgroups=disabled)
	cgroup := "mount -t cgroup2 cgroup2 /sys/fs/cgroup\n"
	sh := func(script string) string {
		out, err := l.inPrivateMounts(binds, cgroup+script).CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", script, err, out)
		}
		return string(out)
	}
	sh(podman + " import " + dir + "/rootfs.tar lab")
	// one port each: netavark writes one container's DNAT rules in no fixed order
	for _, c := range [][2]string{{"web1", "8080:80"}, {"web2", srvAddr4 + ":8081:80"}} {
		name, publish := c[0], c[1]
		sh(podman + " run -d --cgroups=disabled --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 --pids-limit 0 --name " + name +
			" -p " + publish + " lab /bin/busybox httpd -f -p 80")
		t.Cleanup(func() {
			pids, _ := l.inPrivateMounts(binds, cgroup+podman+" inspect --format '{{.State.Pid}} {{.State.ConmonPid}}' "+name).Output()
			_, _ = l.inPrivateMounts(binds, cgroup+podman+" rm -f -t 0 "+name).CombinedOutput()
			for _, f := range strings.Fields(string(pids)) {
				if pid, err := strconv.Atoi(f); err == nil && pid > 1 {
					_ = syscall.Kill(pid, syscall.SIGKILL) // ours, if rm left it
				}
			}
		})
	}
	// the admin's rules: "deny 8080" on the input path (what ufw deny 8080/tcp writes), and the
	// second client refused on the forward path
	l.exec("iptables", "-I", "INPUT", "-p", "tcp", "--dport", "8080", "-j", "DROP")
	l.exec("iptables", "-I", "FORWARD", "-s", cli2Addr4, "-j", "DROP")
	l.read(l.probeAll(realProbes(realPodmanListeners)))
}

// realPodmanListeners: the host's own sshd, and the two published ports (conmon holds them on the
// host, v4 only; the DNAT sends outside connections to the container).
var realPodmanListeners = []realListener{
	{"tcp", "", 22}, {"tcp", "0.0.0.0", 8080}, {"tcp", srvAddr4, 8081},
}

func checkRealPodman(t *testing.T, rs *Ruleset, seen map[probe]string) {
	rs.SetLocal(firewalldLocal)
	rs.SetRoutes(realRoutes)
	for p, want := range map[probe]string{
		{"tcp", cliAddr4, 22}: "open", {"tcp", cliAddr4, 8080}: "open", {"tcp", cli2Addr4, 8080}: "filtered",
		{"tcp", cliAddr4, 8081}: "open",
	} {
		if seen[p] != want {
			t.Errorf("kernel: %s from %s to %d: %s, the lab expects %s", p.proto, p.src, p.port, seen[p], want)
		}
	}
	agreesWithKernelAt(t, rs, realPodmanListeners, seen)
	byPort := map[uint16]Published{}
	for _, p := range rs.Published() {
		byPort[p.HostPort] = p
	}
	if p := byPort[8080]; p.To != netip.MustParseAddrPort("10.88.0.2:80") || p.Verdict.Kind != Restricted {
		t.Errorf("8080 published: %+v, want to 10.88.0.2:80, restricted by the forward rule", p)
	}
	if p := byPort[8080]; mappingOf(p) != "podman run -p 0.0.0.0:8080:80" {
		t.Errorf("8080 published by %q (rule %s), want podman run -p 0.0.0.0:8080:80", mappingOf(p), p.Rule)
	}
	if v := rs.Evaluate("tcp", netip.Addr{}, 22); v.Kind != Open {
		t.Errorf("the host's own sshd: %+v", v)
	}
}

// hasInterp: the executable needs a dynamic loader (and libraries the image does not hold).
func hasInterp(f *elf.File) bool {
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return true
		}
	}
	return false
}
