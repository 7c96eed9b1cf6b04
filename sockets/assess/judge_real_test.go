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
	"testing"
	"time"

	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/collect"
	"github.com/portwatch/portwatch/sockets/sockettest"
)

// liveVerdictOf takes real snapshots until one holds a socket of pid that
// match accepts, and returns its verdict.
func liveVerdictOf(t *testing.T, pid int, match func(*sockets.Socket) bool) *Verdict {
	t.Helper()
	return liveVerdictWhere(t, fmt.Sprintf("no socket of pid %d as wanted", pid), func(s *sockets.Socket) bool {
		return s.PID() == int32(pid) && match(s)
	})
}

// startReady starts cmd and waits for it to print "ready".
func startReady(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	if line, _ := bufio.NewReader(out).ReadString('\n'); line != "ready\n" {
		t.Fatalf("%s did not start: %q", cmd.Path, line)
	}
}

func realPython(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"/usr/bin/python3"} {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			return real
		}
	}
	t.Skip("no /usr/bin/python3")
	return ""
}

func requireRootDpkg(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to read every process's executable and make a root-owned directory")
	}
	if _, err := os.Stat("/var/lib/dpkg/status"); err != nil {
		t.Skip("not a dpkg system")
	}
}

const listenScript = `import socket,sys,time
s=socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen()
print("ready", flush=True); time.sleep(60)`

// A copy of python named sshd, in a root-owned directory no package
// lists, listening on a port of its own: HIGH with the identity finding,
// and not named sshd's service by its name.
func TestRealRenamedPythonAsSshdIsHighUnowned(t *testing.T) {
	requireRootDpkg(t)
	data, err := os.ReadFile(realPython(t))
	if err != nil {
		t.Skip(err)
	}
	dir, err := os.MkdirTemp("/usr/local/lib", "portwatch-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	sshd := filepath.Join(dir, "sbin", "sshd")
	os.MkdirAll(filepath.Dir(sshd), 0o755)
	if err := os.WriteFile(sshd, data, 0o755); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	startReady(t, exec.Command(sshd, scriptFile(t, listenScript), fmt.Sprint(port)))
	v := liveVerdict(t, sockets.HostNetns, port)
	p := v.Socket.Process()
	if p.Identity == nil || p.Identity.Proof != sockets.ProofUnowned {
		t.Fatalf("identity of %s: %+v", p.Exe, p.Identity)
	}
	f := hasCode(v.Findings, CodeUnownedExe)
	if f == nil || f.Severity != RiskHigh || v.Risk != RiskHigh || !strings.Contains(f.Text, "sshd") {
		t.Fatalf("disguised sshd: risk %s %v", v.Risk, v.Findings)
	}
	if v.Service.Program == "sshd" {
		t.Errorf("named by its name alone: %s", v.Service.How())
	}
}

// A real reverse shell (bash's /dev/tcp to the test's own listener, its
// descriptors 0-2 the connection) is caught on its connection, in words
// that say what it is.
func TestRealReverseShellIsCaughtOnItsConnection(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to read the shell's descriptors")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:443") // where such shells call home
	if err != nil {
		ln, err = net.Listen("tcp", "127.0.0.1:0")
	}
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	cmd, conn := sockettest.ReverseShell(t, ln)
	// The shell answers: its input and output are the connection now.
	fmt.Fprintf(conn, "echo pw-$((6*7))\n")
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	if err := readUntil(conn, "pw-42"); err != nil {
		t.Fatalf("the shell did not answer: %v", err)
	}
	v := liveVerdictOf(t, cmd.Process.Pid, func(s *sockets.Socket) bool {
		return s.State == sockets.StateEstablished && int(s.RPort) == port
	})
	f := hasCode(v.Findings, CodeReverseShell)
	if f == nil || f.Severity != RiskHigh || v.Risk != RiskHigh || !strings.Contains(f.Text, "a reverse shell") ||
		!strings.Contains(f.Text, "input and output are this connection") {
		t.Fatalf("reverse shell to %d: risk %s %v", port, v.Risk, v.Findings)
	}
	if f.Remedy == "" || !strings.Contains(f.Remedy, fmt.Sprint(cmd.Process.Pid)) {
		t.Errorf("remedy: %q", f.Remedy)
	}
}

func readUntil(conn net.Conn, want string) error {
	var got strings.Builder
	buf := make([]byte, 512)
	for !strings.Contains(got.String(), want) {
		n, err := conn.Read(buf)
		if err != nil {
			return fmt.Errorf("%w after %q", err, got.String())
		}
		got.Write(buf[:n])
	}
	return nil
}

// An interpreter running inline code is a finding of its own: HIGH on a
// listener, and on a connection where the code spawns a shell.
func TestRealInlinePythonHoldingASocketIsAFinding(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to read every process")
	}
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("no python3")
	}
	port := freePort(t)
	listener := exec.Command(py, "-c", listenScript, fmt.Sprint(port))
	startReady(t, listener)
	v := liveVerdict(t, sockets.HostNetns, port)
	if f := hasCode(v.Findings, CodeInlineCode); f == nil || f.Severity != RiskHigh || v.Risk != RiskHigh {
		t.Fatalf("python3 -c listening: risk %s %v", v.Risk, v.Findings)
	}
	// A one-line reverse shell's first step: a connection from inline code
	// that names pty.
	client := exec.Command(py, "-c", fmt.Sprintf(`import socket,time,pty
s=socket.create_connection(("127.0.0.1", %d)); print("ready", flush=True); time.sleep(60)`, port))
	startReady(t, client)
	c := liveVerdictOf(t, client.Process.Pid, func(s *sockets.Socket) bool {
		return s.State == sockets.StateEstablished && s.RPort == port
	})
	if f := hasCode(c.Findings, CodeInlineCode); f == nil || f.Severity != RiskHigh {
		t.Fatalf("python3 -c connection: %v", c.Findings)
	}
}

// packageOf asks dpkg which package lists path, and its version.
func packageOf(t *testing.T, path string) (string, string) {
	t.Helper()
	out, err := exec.Command("dpkg-query", "-S", path).Output()
	if err != nil {
		t.Skipf("dpkg lists no %s: %v", path, err)
	}
	pkg, _, _ := strings.Cut(strings.TrimSpace(string(out)), ":")
	ver, err := exec.Command("dpkg-query", "-W", "-f", "${Version}", pkg).Output()
	if err != nil {
		t.Fatal(err)
	}
	return pkg, string(ver)
}

// Real redis-server and nginx from their packages are proven: the package
// and version dpkg names, in the identity and its finding.
func TestRealPackagedDaemonsAreProven(t *testing.T) {
	requireRootDpkg(t)
	redis, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server is not installed (CI installs it)")
	}
	port := freePort(t)
	cmd := exec.Command(redis, "--port", fmt.Sprint(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", t.TempDir(), "--daemonize", "no", "--logfile", "")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	real, _ := filepath.EvalSymlinks(redis)
	pkg, ver := packageOf(t, real)
	v := liveVerdict(t, sockets.HostNetns, port)
	id := v.Socket.Process().Identity
	if id == nil || id.Proof != sockets.ProofPackage || id.Package != pkg || id.Version != ver {
		t.Fatalf("redis-server: %+v, dpkg says %s %s", id, pkg, ver)
	}
	if f := hasCode(v.Findings, CodeIdentity); f == nil || !strings.Contains(f.Text, pkg+" "+ver) {
		t.Errorf("identity finding: %v", v.Findings)
	}
	if v.Service.Program != "redis-server" {
		t.Errorf("a proven redis-server is named by its program: %s", v.Service.How())
	}

	nginx, err := exec.LookPath("nginx")
	if err != nil {
		t.Skip("nginx is not installed")
	}
	pkg, ver = packageOf(t, nginx)
	nport := freePort(t)
	dir := t.TempDir()
	conf := fmt.Sprintf(`daemon off; master_process off; pid %[1]s/nginx.pid; error_log %[1]s/error.log;
events { worker_connections 16; }
http { access_log off; client_body_temp_path %[1]s; proxy_temp_path %[1]s; fastcgi_temp_path %[1]s; uwsgi_temp_path %[1]s; scgi_temp_path %[1]s;
  server { listen 127.0.0.1:%[2]d; return 204; } }
`, dir, nport)
	os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(conf), 0o644)
	ng := exec.Command(nginx, "-c", filepath.Join(dir, "nginx.conf"), "-e", filepath.Join(dir, "error.log"))
	if err := ng.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ng.Process.Kill(); ng.Wait() })
	v = liveVerdict(t, sockets.HostNetns, nport)
	if id := v.Socket.Process().Identity; id == nil || id.Proof != sockets.ProofPackage || id.PackageWords() != pkg+" "+ver {
		t.Fatalf("nginx: %+v, dpkg says %s %s", id, pkg, ver)
	}
}

// A real memcached from its package on all interfaces (in a network
// namespace of the test's): proven, named by its program, HIGH, and its
// remedy is memcached's own address setting.
func TestRealMemcachedExposedGetsItsBindRemedy(t *testing.T) {
	requireRootDpkg(t)
	bin, err := exec.LookPath("memcached")
	if err != nil {
		t.Skip("memcached is not installed (CI installs it)")
	}
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("no unshare")
	}
	port := freePort(t)
	cmd := exec.Command("unshare", "--net", "--", bin, "-p", fmt.Sprint(port), "-l", "0.0.0.0", "-U", "0", "-u", "memcache")
	if err := cmd.Start(); err != nil {
		t.Skipf("cannot make a network namespace here: %v", err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	// unshare execs memcached: the pid is memcached's.
	v := liveVerdictOf(t, cmd.Process.Pid, func(s *sockets.Socket) bool { return s.IsListening() && s.LPort == port && s.Proto == sockets.TCP })
	pkg, ver := packageOf(t, bin)
	if id := v.Socket.Process().Identity; id == nil || id.PackageWords() != pkg+" "+ver {
		t.Fatalf("memcached: %+v, dpkg says %s %s", id, pkg, ver)
	}
	f := hasCode(v.Findings, CodeDBExposed)
	if v.Service.Program != "memcached" || v.Risk != RiskHigh || f == nil || !strings.Contains(f.Remedy, "-l 127.0.0.1") {
		t.Fatalf("memcached on all interfaces: %s risk %s %+v", v.Service.How(), v.Risk, v.Findings)
	}
}

// A real socat bind shell (socat TCP-LISTEN ... EXEC:/bin/sh): its
// listener and the connection of a client are both caught, HIGH, as a
// program handed the socket.
func TestRealSocatBindShellIsCaughtOnListenerAndConnection(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to read every process")
	}
	socat, err := exec.LookPath("socat")
	if err != nil {
		t.Skip("socat is not installed (CI installs it)")
	}
	port := freePort(t)
	cmd := exec.Command(socat, fmt.Sprintf("TCP-LISTEN:%d,bind=127.0.0.1,reuseaddr,fork", port), "EXEC:/bin/sh")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	v := liveVerdict(t, sockets.HostNetns, port)
	if f := hasCode(v.Findings, CodeExecTool); f == nil || f.Severity != RiskHigh || v.Risk != RiskHigh {
		t.Fatalf("socat's listener: risk %s %v", v.Risk, v.Findings)
	}
	var conn net.Conn
	for try := 0; try < 50 && conn == nil; try++ {
		conn, _ = net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if conn == nil {
			time.Sleep(20 * time.Millisecond)
		}
	}
	if conn == nil {
		t.Fatal("cannot reach socat")
	}
	defer conn.Close()
	fmt.Fprintf(conn, "echo pw-$((6*7))\n")
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	if err := readUntil(conn, "pw-42"); err != nil {
		t.Fatalf("the shell did not answer: %v", err)
	}
	local := conn.LocalAddr().(*net.TCPAddr).Port
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	snap, err := collect.NewLive().Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range Assess(snap, SystemKnowledge()).Verdicts {
		s := &c.Socket
		if s.State == sockets.StateEstablished && int(s.LPort) == int(port) && int(s.RPort) == local {
			if f := hasCode(c.Findings, CodeExecTool); f == nil || c.Risk != RiskHigh {
				t.Fatalf("socat's session: risk %s %v", c.Risk, c.Findings)
			}
			return
		}
	}
	t.Fatal("socat's side of the connection was not listed")
}
