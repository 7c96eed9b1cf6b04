//go:build linux

package main

import (
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestLabClass: a class on one machine. Two students run portwatch lab at
// once, as root and as nobody (each lab in a namespace of its own; nobody's
// on a block of free ports of its own where user namespaces are refused),
// through the built binary in
// tmux; each walks to the last step without a failure, and each monitor
// shows its own scene and nothing of the other's.
func TestLabClass(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: two labs of ten steps each")
	}
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root: to make namespaces, and to start the labs as nobody")
	}
	bin := sharedBinary(t)
	for _, mode := range []string{"root", "nobody"} {
		t.Run(mode, func(t *testing.T) {
			s := &tmuxSession{t: t, socket: fmt.Sprintf("portwatch-class-%s-%d", mode, os.Getpid())}
			defer exec.Command("tmux", "-L", s.socket, "kill-server").Run()
			students := []string{"a", "b"}
			for _, name := range students {
				cmd := []string{"env", "NO_COLOR=1", "TERM=xterm-256color"}
				if mode == "nobody" {
					home := t.TempDir()
					os.Chmod(home, 0o755)
					if err := os.Chown(home, 65534, 65534); err != nil {
						t.Fatal(err)
					}
					cmd = append([]string{"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"}, cmd...)
					cmd = append(cmd, "HOME="+home, "GOCACHE="+home+"/gocache", "XDG_CACHE_HOME="+home+"/cache")
				}
				cmd = append(cmd, bin, "lab")
				s.tmux(append([]string{"new-session", "-d", "-s", name, "-x", "100", "-y", "30"}, cmd...)...)
			}
			screen := func(name string) string { return s.tmux("capture-pane", "-p", "-t", name) }
			waitScreen := func(name string, d time.Duration, what ...string) string {
				t.Helper()
				var sc string
				for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
					sc = screen(name)
					if strings.Contains(sc, "failed") {
						t.Fatalf("lab %s: a step failed:\n%s", name, sc)
					}
					all := true
					for _, w := range what {
						all = all && strings.Contains(sc, w)
					}
					if all {
						return sc
					}
				}
				t.Fatalf("lab %s never showed %q:\n%s", name, what, sc)
				return ""
			}
			// Step 1's server: its port tells the labs apart without root.
			portRE := regexp.MustCompile(`listen\(\) on 127\.0\.0\.1:(\d+)`)
			ports := map[string]string{}
			for _, name := range students {
				sc := waitScreen(name, 20*time.Second, "Lab 1/10")
				m := portRE.FindStringSubmatch(strings.ReplaceAll(sc, "\n  ", " "))
				if m == nil {
					t.Fatalf("lab %s's step 1 names no port:\n%s", name, sc)
				}
				ports[name] = m[1]
				// The header speaks of the scene: another user's sockets,
				// elsewhere on the machine, are not the lab's.
				if strings.Contains(sc, "owners hidden") || strings.Contains(sc, "namespaces skipped") {
					t.Errorf("lab %s warns of sockets that are not the scene's:\n%s", name, sc)
				}
			}
			// Each lab has a namespace of its own: root's, or nobody's
			// inside a user namespace of its own. Where the kernel
			// refuses users those, nobody's labs share loopback, each on
			// a block of ports of its own.
			own := mode == "root" || userNamespacesAllowed()
			if !own && ports["a"] == ports["b"] {
				t.Errorf("both labs use port %s", ports["a"])
			}
			// Both students walk the steps together.
			for step := 2; step <= 10; step++ {
				for _, name := range students {
					s.tmux("send-keys", "-t", name, " ")
				}
				for _, name := range students {
					waitScreen(name, 20*time.Second, fmt.Sprintf("Lab %d/10", step))
				}
				for _, name := range students { // the step is made, not only started
					for deadline := time.Now().Add(20 * time.Second); strings.Contains(screen(name), "making it happen"); time.Sleep(100 * time.Millisecond) {
						if time.Now().After(deadline) {
							t.Fatalf("lab %s: step %d still being made after 20 s", name, step)
						}
					}
				}
			}
			// Each sees its own scene, and nothing of the other's.
			filter := func(name, text string) string {
				t.Helper()
				s.tmux("send-keys", "-t", name, "3")
				s.tmux("send-keys", "-t", name, "/")
				s.tmux("send-keys", "-t", name, "C-u")
				s.tmux("send-keys", "-t", name, "-l", text)
				s.tmux("send-keys", "-t", name, "Enter")
				return waitScreen(name, 10*time.Second, fmt.Sprintf("filter %q", text))
			}
			for i, name := range students {
				other := students[1-i]
				if own {
					// Both labs' servers are 127.0.0.1:62001, each in its own
					// namespace: a lab that saw the other's would list two.
					sc := filter(name, ":"+ports[name])
					var rows []string
					for _, l := range strings.Split(sc, "\n") {
						if strings.Contains(l, "LISTEN") && strings.Contains(l, "127.0.0.1:"+ports[name]) {
							rows = append(rows, l)
						}
					}
					if len(rows) != 1 || !strings.HasPrefix(strings.TrimLeft(rows[0], " >+"), "lab ") {
						t.Errorf("lab %s: want its own server alone, labelled lab; got %q:\n%s", name, rows, sc)
					}
					// The NETNS column, not the details' prose (which may
					// speak of "an unknown host").
					for _, l := range strings.Split(sc, "\n") {
						if f := strings.Fields(strings.TrimLeft(l, " >+-")); len(f) > 1 && (f[0] == "host" || strings.HasPrefix(f[0], "netns:")) {
							t.Errorf("lab %s shows another namespace: %q\n%s", name, l, sc)
						}
					}
					continue
				}
				if sc := filter(name, ":"+ports[other]); !strings.Contains(sc, "no rows match the filter") {
					t.Errorf("lab %s shows lab %s's sockets on %s:\n%s", name, other, ports[other], sc)
				}
				if sc := filter(name, ":"+ports[name]); strings.Contains(sc, "no rows match the filter") {
					t.Errorf("lab %s does not show its own server on %s:\n%s", name, ports[name], sc)
				}
			}
			for _, name := range students {
				s.tmux("send-keys", "-t", name, "q")
			}
		})
	}
}

// userNamespacesAllowed: the kernel lets a user make a user namespace,
// where portwatch lab without root runs.
func userNamespacesAllowed() bool {
	b, err := os.ReadFile("/proc/sys/user/max_user_namespaces")
	if err != nil || strings.TrimSpace(string(b)) == "0" {
		return false
	}
	b, err = os.ReadFile("/proc/sys/kernel/unprivileged_userns_clone") // Debian's switch, where there is one
	return err != nil || strings.TrimSpace(string(b)) != "0"
}
