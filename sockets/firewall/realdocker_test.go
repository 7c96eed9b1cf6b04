//go:build linux

package firewall

import (
	"debug/elf"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestRealDocker runs the real dockerd (Debian's docker.io 20.10) in a lab's server namespace: a
// container of busybox's httpd published on two ports by Docker's own iptables rules (and its
// userland proxy, which holds the ports on the host, IPv6 too), the admin's input rule that means
// to refuse one (the DNAT goes past it) and a DOCKER-USER rule refusing a client. Its data, its
// runtime state and /etc/docker are the test's own.
func TestRealDocker(t *testing.T) {
	needLab(t, "dockerd", "docker", "iptables-nft")
	if f, err := elf.Open("/bin/busybox"); err != nil || hasInterp(f) {
		t.Skip("needs a static busybox for the container's image (apt-get install busybox-static)")
	}
	if out, err := exec.Command("iptables", "--version").Output(); err != nil || !strings.Contains(string(out), "nf_tables") {
		t.Skip("dockerd calls iptables, and iptables here is not iptables-nft")
	}
	hostUntouched(t, "/etc/docker")
	l := newLab(t, "realdock", realSpecs(realDockerListeners[:1])...) // docker-proxy holds the others
	l.realAddressing()
	dir := t.TempDir()
	for _, d := range []string{"data", "exec", "etc", "rootfs/bin"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	copyTree(t, "/bin/busybox", filepath.Join(dir, "rootfs/bin/busybox"))
	run(t, "", "tar", "-C", filepath.Join(dir, "rootfs"), "-cf", filepath.Join(dir, "rootfs.tar"), ".")
	sock := filepath.Join(dir, "docker.sock")
	var binds [][2]string
	if _, err := os.Stat("/etc/docker"); err == nil {
		binds = append(binds, [2]string{"/etc/docker", dir + "/etc"})
	}
	// ip netns exec's own /sys hides the cgroup hierarchy the containers' cgroups go in
	d := l.inPrivateMounts(binds, "mount -t cgroup2 cgroup2 /sys/fs/cgroup\nexec dockerd --data-root "+dir+"/data --exec-root "+dir+
		"/exec --pidfile "+dir+"/docker.pid -H unix://"+sock+" --storage-driver vfs --ip6tables=false")
	logf, err := os.Create(filepath.Join(dir, "dockerd.log"))
	if err != nil {
		t.Fatal(err)
	}
	d.Stdout, d.Stderr = logf, logf
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Process.Signal(syscall.SIGTERM); _ = d.Wait(); logf.Close() })
	docker := func(args ...string) {
		cmd := exec.Command("docker", append([]string{"-H", "unix://" + sock}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			log, _ := os.ReadFile(filepath.Join(dir, "dockerd.log"))
			t.Fatalf("docker %s: %v\n%s\ndockerd's log:\n%s", strings.Join(args, " "), err, out, log)
		}
	}
	waitFor(t, "dockerd", func() bool {
		return exec.Command("docker", "-H", "unix://"+sock, "version").Run() == nil
	})
	docker("import", filepath.Join(dir, "rootfs.tar"), "lab:1")
	docker("run", "-d", "--name", "web", "-p", "8080:80", "-p", srvAddr4+":8081:81", "lab:1",
		"/bin/busybox", "sh", "-c", "/bin/busybox httpd -p 81; exec /bin/busybox httpd -f -p 80")
	t.Cleanup(func() { _ = exec.Command("docker", "-H", "unix://"+sock, "rm", "-f", "web").Run() })
	// the admin's rules: "deny 8080" on the input path (what ufw deny 8080/tcp writes), and the
	// second client refused where Docker says to, in DOCKER-USER
	l.exec("iptables", "-I", "INPUT", "-p", "tcp", "--dport", "8080", "-j", "DROP")
	l.exec("iptables", "-I", "DOCKER-USER", "-s", cli2Addr4, "-j", "DROP")
	l.read(l.probeAll(realProbes(realDockerListeners)))
}

// realDockerListeners: the host's own sshd, and the published ports as docker-proxy holds them
// (8080 on IPv4 and IPv6: IPv6 reaches the proxy, IPv4 the DNAT).
var realDockerListeners = []realListener{
	{"tcp", "", 22}, {"tcp", "0.0.0.0", 8080}, {"tcp", "::", 8080}, {"tcp", srvAddr4, 8081},
}

// realDockerLocal and realDockerRoutes: the lab's, and docker0's.
var realDockerLocal = append(append([]netip.Addr(nil), firewalldLocal...), netip.MustParseAddr("172.17.0.1"))
var realDockerRoutes = append(append([]Route(nil), realRoutes...), Route{Prefix: netip.MustParsePrefix("172.17.0.0/16"), Dev: "docker0"})

func checkRealDocker(t *testing.T, rs *Ruleset, seen map[probe]string) {
	rs.SetLocal(realDockerLocal)
	rs.SetRoutes(realDockerRoutes)
	for p, want := range map[probe]string{
		{"tcp", cliAddr4, 22}: "open", {"tcp", cliAddr4, 8080}: "open", {"tcp", cli2Addr4, 8080}: "filtered",
		{"tcp", cliAddr6, 8080}: "open", {"tcp", cliAddr4, 8081}: "open", {"tcp", cli2Addr4, 8081}: "filtered",
	} {
		if seen[p] != want {
			t.Errorf("kernel: %s from %s to %d: %s, the lab expects %s", p.proto, p.src, p.port, seen[p], want)
		}
	}
	agreesWithKernelAt(t, rs, realDockerListeners, seen)
	byPort := map[uint16]Published{}
	for _, p := range rs.Published() {
		byPort[p.HostPort] = p
	}
	if p := byPort[8080]; p.To != netip.MustParseAddrPort("172.17.0.2:80") || p.Verdict.Kind != Restricted || p.Verdict.Frontend != "docker" {
		t.Errorf("8080 published: %+v, want to 172.17.0.2:80, restricted by DOCKER-USER", p)
	}
	if p := byPort[8080]; mappingOf(p) != "docker run -p 0.0.0.0:8080:80" {
		t.Errorf("8080 published by %q (rule %s), want docker run -p 0.0.0.0:8080:80", mappingOf(p), p.Rule)
	}
}
