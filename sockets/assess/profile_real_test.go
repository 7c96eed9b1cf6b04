//go:build linux

package assess

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/collect"
)

// startIn starts a real server in the network namespace name; the test
// kills it (and what it forked) at its end.
func startIn(t *testing.T, name string, args ...string) {
	t.Helper()
	cmd := exec.Command("ip", append([]string{"netns", "exec", name}, args...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); cmd.Wait() })
}

// namespaceProfile polls the machine until the listeners on ports exist
// in the namespace labelled name, and profiles that namespace's sockets
// alone: the machine's other listeners are not the test's.
func namespaceProfile(t *testing.T, name string, ports ...uint16) Profile {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var have []uint16
	for try := 0; try < 100; try++ {
		snap, err := collect.NewLive().Snapshot(ctx)
		if err != nil {
			t.Fatal(err)
		}
		own := snap.Sockets[:0:0]
		have = have[:0]
		for _, s := range snap.Sockets {
			if s.Netns == name {
				own = append(own, s)
				if s.IsListening() && len(s.Owners) > 0 {
					have = append(have, s.LPort)
				}
			}
		}
		all := true
		for _, p := range ports {
			all = all && slices.Contains(have, p)
		}
		if all {
			snap.Sockets = own
			return ProfileOf(Assess(snap, SystemKnowledge()))
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("listeners %v did not all come up in %s; have %v", ports, name, have)
	return Profile{}
}

func roleNamed(p Profile, name string) *ServerRole {
	for i := range p.Roles {
		if p.Roles[i].Name == name {
			return &p.Roles[i]
		}
	}
	return nil
}

func standout(p Profile, code string) *Standout {
	for i := range p.Standouts {
		if p.Standouts[i].Code == code {
			return &p.Standouts[i]
		}
	}
	return nil
}

// Real nginx on 80 and 443, a real sshd on 22 and a real redis-server on
// all interfaces, in a network namespace of the test's own: the profile
// concludes a web server with TLS that allows remote administration, and
// that a database is reachable from outside on a web server.
func TestRealServerProfile(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: starts real nginx, sshd and redis-server in a namespace")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root to make a network namespace")
	}
	for _, tool := range []string{"ip", "nginx", "redis-server", "/usr/sbin/sshd", "ssh-keygen"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed (CI installs nginx-light, redis-server and openssh-server)", tool)
		}
	}
	name := fmt.Sprintf("pwprof%d", os.Getpid())
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Skipf("cannot make a network namespace here: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", name).Run() })
	exec.Command("ip", "-n", name, "link", "set", "lo", "up").Run()

	dir := t.TempDir()
	os.Chmod(dir, 0o755)
	conf := fmt.Sprintf(`daemon off; master_process off; pid %[1]s/nginx.pid; error_log %[1]s/error.log;
events { worker_connections 16; }
http { access_log off; client_body_temp_path %[1]s; proxy_temp_path %[1]s; fastcgi_temp_path %[1]s; uwsgi_temp_path %[1]s; scgi_temp_path %[1]s;
  server { listen 80; listen 443; return 204; } }
`, dir)
	os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(conf), 0o644)
	startIn(t, name, "nginx", "-c", filepath.Join(dir, "nginx.conf"), "-e", filepath.Join(dir, "error.log"))

	key := filepath.Join(dir, "hostkey")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v %s", err, out)
	}
	os.MkdirAll("/run/sshd", 0o755) // sshd's privilege-separation directory
	startIn(t, name, "/usr/sbin/sshd", "-D", "-e", "-f", "/dev/null", "-h", key, "-o", "ListenAddress=0.0.0.0:22", "-o", "PidFile=none")
	startIn(t, name, "redis-server", "--port", "6379", "--bind", "0.0.0.0", "--protected-mode", "no", "--save", "", "--appendonly", "no",
		"--dir", dir, "--daemonize", "no", "--logfile", "")

	p := namespaceProfile(t, name, 22, 80, 443, 6379)
	web := roleNamed(p, "web server")
	if web == nil || web.Detail != "with TLS" || !web.Reachable {
		t.Errorf("web server role: %+v, want reachable, with TLS (profile %+v)", web, p)
	}
	if admin := roleNamed(p, "remote administration"); admin == nil || !strings.Contains(strings.Join(admin.Evidence, " "), "sshd") {
		t.Errorf("remote administration role: %+v, want sshd as its evidence", admin)
	}
	if db := roleNamed(p, "database"); db == nil || !db.Reachable {
		t.Errorf("database role: %+v", db)
	}
	s := standout(p, StandoutExposedDatabase)
	if s == nil || s.Risk != RiskHigh || !strings.Contains(s.Text, "redis-server") || !strings.Contains(s.Text, "web server") {
		t.Errorf("exposed-database standout: %+v", s)
	}
	if sum := p.Summary(); !strings.Contains(sum, "web server (with TLS)") || !strings.Contains(sum, "remote administration") {
		t.Errorf("summary %q", sum)
	}
	if standout(p, StandoutUnnamed) != nil {
		t.Errorf("every listener here is named, yet: %+v", standout(p, StandoutUnnamed))
	}
	_ = sockets.HostNetns
}
