//go:build linux

package assess

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/collect"
	"github.com/portwatch/portwatch/sockets/sockettest"
)

// liveVerdict takes a real snapshot and returns the verdict of the
// listener on port in the namespace labelled netns.
func liveVerdict(t *testing.T, netns string, port uint16) *Verdict {
	t.Helper()
	return liveVerdictWhere(t, fmt.Sprintf("no listener with an owner on %d in %s", port, netns), func(s *sockets.Socket) bool {
		return s.IsListening() && s.LPort == port && s.Netns == netns && len(s.Owners) > 0
	})
}

// liveVerdictWhere takes real snapshots, for up to 50 tries 100 ms apart,
// until one holds a socket that match accepts, and returns its verdict;
// the test fails with missing otherwise.
func liveVerdictWhere(t *testing.T, missing string, match func(*sockets.Socket) bool) *Verdict {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for try := 0; try < 50; try++ {
		snap, err := collect.NewLive().Snapshot(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range Assess(snap, SystemKnowledge()).Verdicts {
			if match(&v.Socket) {
				return v
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal(missing)
	return nil
}

// liveFirewallVerdict is liveVerdict judged against the firewalls the
// snapshot read.
func liveFirewallVerdict(t *testing.T, netns string, port uint16) *Verdict {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	snap, err := collect.NewLive().Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range AssessWith(snap, SystemKnowledge(), Context{Firewall: FirewallOf(snap.Firewalls)}).Verdicts {
		if v.Socket.IsListening() && v.Socket.LPort == port && v.Socket.Netns == netns {
			return v
		}
	}
	t.Fatalf("no listener on %d in %s", port, netns)
	return nil
}

// A real redis-server on a port that is not redis's is named by its program.
func TestRealRedisOnAnotherPortIsNamedByItsProgram(t *testing.T) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server is not installed (CI installs it)")
	}
	sockettest.SkipShort(t, "a real redis-server")
	port := freePort(t)
	cmd := exec.Command(bin, "--port", fmt.Sprint(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", t.TempDir(), "--daemonize", "no", "--logfile", "")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	v := liveVerdict(t, sockets.HostNetns, port)
	if v.Service.Name != "redis" || v.Service.Source != ByProgram || v.Service.Program != "redis-server" {
		t.Errorf("redis-server on %d: %q %s", port, v.Service.Name, v.Service.How())
	}
	for _, f := range v.Findings {
		if f.Code == CodeUnknownListener || f.Code == CodeServiceMismatch {
			t.Errorf("redis-server on %d: %s %s", port, f.Code, f.Text)
		}
	}
}

// A real nginx, master as root and workers as nobody, on an ephemeral
// port: named by its program, and its privilege judged across owners.
func TestRealNginxPreForkIsJudgedAcrossOwners(t *testing.T) {
	bin, err := exec.LookPath("nginx")
	if err != nil {
		t.Skip("nginx is not installed (CI installs nginx-light)")
	}
	sockettest.NeedRoot(t, "for a master that drops privilege")
	port := freePort(t) // an ephemeral port, as nginx's 37120 was
	dir := t.TempDir()
	conf := fmt.Sprintf(`daemon off; master_process on; worker_processes 2; user nobody nogroup;
pid %[1]s/nginx.pid; error_log %[1]s/error.log;
events { worker_connections 16; }
http { access_log off; client_body_temp_path %[1]s; proxy_temp_path %[1]s; fastcgi_temp_path %[1]s; uwsgi_temp_path %[1]s; scgi_temp_path %[1]s;
  server { listen 127.0.0.1:%[2]d; return 204; } }
`, dir, port)
	os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(conf), 0o644)
	os.Chmod(dir, 0o777)
	cmd := exec.Command(bin, "-c", filepath.Join(dir, "nginx.conf"), "-e", filepath.Join(dir, "error.log"))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // the workers go with the master
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); cmd.Wait() })
	var v *Verdict
	for try := 0; try < 30; try++ { // the workers come up after the master binds
		v = liveVerdict(t, sockets.HostNetns, port)
		if len(v.Socket.Owners) >= 3 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(v.Socket.Owners) < 3 {
		t.Fatalf("nginx's listener has %d owners, want the master and 2 workers (%s)", len(v.Socket.Owners), stderr.String())
	}
	if v.Service.Program != "nginx" || v.Service.Source != ByProgram {
		t.Errorf("nginx on %d: %s", port, v.Service.How())
	}
	var codes []string
	for _, f := range v.Findings {
		codes = append(codes, f.Code)
	}
	if !strings.Contains(strings.Join(codes, " "), CodePreFork) || strings.Contains(strings.Join(codes, " "), CodeRootHighPort) {
		t.Errorf("nginx pre-fork findings: %v", codes)
	}
}

// freePort is a TCP port on 127.0.0.1 that nothing holds now.
func freePort(t *testing.T) uint16 {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return uint16(ln.Addr().(*net.TCPAddr).Port)
}

// python3 listening on ssh's and redis's ports, inside a network namespace
// the test creates, is a service in disguise: HIGH on 22, MEDIUM on 6379.
func TestRealPythonOnWellKnownPortsIsAMismatch(t *testing.T) {
	sockettest.NeedRoot(t, "to make a network namespace")
	for _, tool := range []string{"ip", "python3"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed", tool)
		}
	}
	name := fmt.Sprintf("pwmis%d", os.Getpid())
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Skipf("cannot make a network namespace here: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", name).Run() })
	exec.Command("ip", "-n", name, "link", "set", "lo", "up").Run()
	cmd := exec.Command("ip", "netns", "exec", name, "python3", "-c", `import socket,time
ls=[]
for p in (22, 6379):
    s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("0.0.0.0",p)); s.listen(); ls.append(s)
print("ready", flush=True); time.sleep(60)`)
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	if line, _ := bufio.NewReader(out).ReadString('\n'); line != "ready\n" {
		t.Fatalf("the listeners did not start: %q", line)
	}
	for _, c := range []struct {
		port uint16
		risk Risk
	}{{22, RiskHigh}, {6379, RiskMedium}} {
		v := liveVerdict(t, name, c.port)
		f := hasCode(v.Findings, CodeServiceMismatch)
		if f == nil || f.Severity != c.risk || !strings.Contains(f.Text, "python3") {
			t.Errorf("python3 on %d: mismatch %+v, want %s naming python3", c.port, f, c.risk)
		}
	}
}
