//go:build linux

package firewall

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The lab: network namespaces made by the tests, joined by a veth pair with addresses of their
// own (10.200.0.0/24, fd00:200::/64), which carry traffic only between them.

// nsPrefix names this test process's namespaces: runs at once (another worktree's, a -count in
// another shell) neither share nor delete each other's, which made kernel tests fail at random.
var nsPrefix = fmt.Sprintf("%s%d-", nsFamily, os.Getpid())

const nsFamily = "pwfwtest-"

const (
	srvAddr4  = "10.200.0.1"
	cliAddr4  = "10.200.0.2" // inside the allowed prefixes
	cli2Addr4 = "10.200.0.3" // a second client address
	srvAddr6  = "fd00:200::1"
	cliAddr6  = "fd00:200::2"
)

func TestMain(m *testing.M) {
	removeStaleNamespaces()
	os.Exit(m.Run())
}

// removeStaleNamespaces deletes what an interrupted run left behind: the namespaces of test
// processes that are gone, never those of one still running.
func removeStaleNamespaces() {
	out, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		return
	}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || !strings.HasPrefix(f[0], nsFamily) {
			continue
		}
		pid, _, _ := strings.Cut(strings.TrimPrefix(f[0], nsFamily), "-")
		if n, err := strconv.Atoi(pid); err == nil && syscall.Kill(n, 0) == syscall.ESRCH {
			_ = exec.Command("ip", "netns", "del", f[0]).Run()
		}
	}
}

// needLab skips unless namespaces can be made and the tools are there, and under -short: a lab
// takes seconds, and TestReplay runs the same checks on the recorded conversations.
func needLab(tb testing.TB, tools ...string) {
	tb.Helper()
	if testing.Short() {
		tb.Skip("-short: no lab (network namespaces, nft, real probes); TestReplay checks the recordings")
	}
	if os.Geteuid() != 0 {
		tb.Skip("needs root to make network namespaces; TestReplay checks the recordings")
	}
	for _, tool := range append([]string{"ip", "nft", "python3"}, tools...) {
		if _, err := exec.LookPath(tool); err != nil {
			tb.Skipf("needs %s (apt-get install nftables iproute2 python3 iptables)", tool)
		}
	}
}

func run(tb testing.TB, stdin string, args ...string) string {
	tb.Helper()
	cmd := exec.Command(args[0], args[1:]...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		tb.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

type lab struct {
	tb       testing.TB
	srv, cli string
	pid      int       // a process in the server namespace (the listener, or a sleeper)
	rec      *recorder // made by the first read
}

// read reads the server namespace's ruleset, records the conversation (recording_test.go) and runs
// the test's check of this read (recordedTests) on it, with what the kernel did to the probes.
func (l *lab) read(seen map[probe]string) *Ruleset {
	l.tb.Helper()
	return l.recorder().read(l.pid, seen)
}

func (l *lab) recorder() *recorder {
	l.tb.Helper()
	if l.rec == nil {
		t, ok := l.tb.(*testing.T)
		if !ok {
			l.tb.Fatal("only a test records its reads")
		}
		l.rec = newRecorder(t)
	}
	return l.rec
}

// newLab makes a server and a client namespace joined by a veth pair, and starts a process in the
// server namespace: listeners on the given ports ("tcp:8080", "udp:9090"), or a sleeper.
func newLab(tb testing.TB, name string, listen ...string) *lab {
	tb.Helper()
	needLab(tb)
	l := &lab{tb: tb, srv: nsPrefix + name + "-s", cli: nsPrefix + name + "-c"}
	for _, ns := range []string{l.srv, l.cli} {
		_ = exec.Command("ip", "netns", "del", ns).Run()
		if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
			tb.Skipf("cannot make a network namespace: %v %s", err, out)
		}
		ns := ns
		tb.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ns).Run() })
	}
	run(tb, "", "ip", "-n", l.srv, "link", "add", "veth0", "type", "veth", "peer", "name", "veth0", "netns", l.cli)
	for ns, addrs := range map[string][]string{
		l.srv: {srvAddr4 + "/24", srvAddr6 + "/64"},
		l.cli: {cliAddr4 + "/24", cli2Addr4 + "/24", cliAddr6 + "/64"},
	} {
		for _, a := range addrs {
			args := []string{"ip", "-n", ns, "addr", "add", a, "dev", "veth0"}
			if strings.Contains(a, ":") {
				args = append(args, "nodad")
			}
			run(tb, "", args...)
		}
		run(tb, "", "ip", "-n", ns, "link", "set", "lo", "up")
		run(tb, "", "ip", "-n", ns, "link", "set", "veth0", "up")
	}
	// answer every probe: no ICMP rate limit in the server namespace
	run(tb, "", "ip", "netns", "exec", l.srv, "sysctl", "-qw", "net.ipv4.icmp_ratelimit=0", "net.ipv6.icmp.ratelimit=0")

	var cmd *exec.Cmd
	if len(listen) > 0 {
		script, _ := filepath.Abs("testdata/listen.py")
		cmd = exec.Command("ip", append([]string{"netns", "exec", l.srv, "python3", script}, listen...)...)
	} else {
		cmd = exec.Command("ip", "netns", "exec", l.srv, "python3", "-c", "import sys; print('ready', flush=True); sys.stdin.read()")
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		stdin.Close()
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	ready := make(chan error, 1)
	go func() {
		line, err := bufio.NewReader(stdout).ReadString('\n')
		if err == nil && strings.TrimSpace(line) != "ready" {
			err = fmt.Errorf("listener said %q", line)
		}
		ready <- err
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case err := <-ready:
		if err != nil {
			tb.Fatalf("listener: %v", err)
		}
	case <-time.After(15 * time.Second):
		tb.Fatal("listener not ready after 15 s")
	}
	l.pid = cmd.Process.Pid // ip netns exec executes python in place
	if l.nsInode() == selfNSInode(tb) {
		tb.Fatal("the listener is not in its namespace")
	}
	return l
}

func selfNSInode(tb testing.TB) uint64 {
	var st syscall.Stat_t
	if err := syscall.Stat("/proc/self/ns/net", &st); err != nil {
		tb.Fatal(err)
	}
	return st.Ino
}

func (l *lab) nsInode() uint64 {
	var st syscall.Stat_t
	if err := syscall.Stat(fmt.Sprintf("/proc/%d/ns/net", l.pid), &st); err != nil {
		l.tb.Fatal(err)
	}
	return st.Ino
}

// nft loads a ruleset into the server namespace.
func (l *lab) nft(rules string) {
	l.tb.Helper()
	run(l.tb, rules, "ip", "netns", "exec", l.srv, "nft", "-f", "-")
}

func (l *lab) exec(args ...string) string {
	l.tb.Helper()
	return run(l.tb, "", append([]string{"ip", "netns", "exec", l.srv}, args...)...)
}

type probe struct {
	proto string
	src   string
	port  uint16
}

func (p probe) spec() string { return fmt.Sprintf("%s|%s|%d", p.proto, p.src, p.port) }

// probeAll asks the kernel: each probe runs from the client namespace, all at once.
func (l *lab) probeAll(ps []probe) map[probe]string {
	l.tb.Helper()
	return l.probeAt(srvAddr4, srvAddr6, ps)
}

// probeAt is probeAll to other addresses than the server's (a container's behind it).
func (l *lab) probeAt(dst4, dst6 string, ps []probe) map[probe]string {
	l.tb.Helper()
	script, _ := filepath.Abs("testdata/probe.py")
	args := []string{"ip", "netns", "exec", l.cli, "python3", script, dst4, "1.5", dst6}
	for _, p := range ps {
		args = append(args, p.spec())
	}
	out := run(l.tb, "", args...)
	res := map[probe]string{}
	bySpec := map[string]probe{}
	for _, p := range ps {
		bySpec[p.spec()] = p
	}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Fields(line)
		if len(f) == 2 {
			res[bySpec[f[0]]] = f[1]
		}
	}
	if len(res) != len(ps) {
		l.tb.Fatalf("probe answered %d of %d:\n%s", len(res), len(ps), out)
	}
	return res
}
