//go:build linux

package lab

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/portwatch/portwatch/sockets/sockettest"
)

// TestKill9LeavesNoHelperAndNoNamespace starts a lab the way portwatch lab
// does as root (this binary again, in a new network namespace), lets it
// make every step happen, then kills it with SIGKILL: no Close, no
// deferred function, nothing of the lab's own code runs. Every helper must
// die with it (Pdeathsig), and with them the last process in the
// namespace, so the namespace itself is gone.
func TestKill9LeavesNoHelperAndNoNamespace(t *testing.T) {
	t.Parallel()
	sockettest.NeedRoot(t, "to make a network namespace")
	cmd, err := NamespaceCommand("-test.run=^$")
	if err != nil {
		t.Fatal(err)
	}
	// Its helpers stay when their input closes: only Pdeathsig can end them.
	cmd.Env = append(cmd.Env, killChildEnv+"=1", helperStayEnv+"=1")
	var stderr strings.Builder
	cmd.Stdin, cmd.Stdout, cmd.Stderr = nil, nil, &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()

	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		if sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var rep childReport
	select {
	case l, ok := <-lines:
		if !ok {
			cmd.Wait()
			t.Fatalf("the lab ended without a report: %s", stderr.String())
		}
		if err := json.Unmarshal([]byte(l), &rep); err != nil {
			t.Fatalf("the lab's report %q: %v", l, err)
		}
	case <-time.After(45 * time.Second):
		t.Fatalf("the lab said nothing for 45 s: %s", stderr.String())
	}
	// Should the test fail, nothing of the lab outlives it: each helper
	// still in the lab's namespace is killed, by pid.
	t.Cleanup(func() {
		for _, pid := range rep.PIDs {
			if ino, err := netnsInode(strconv.Itoa(pid)); err == nil && ino == rep.Netns {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	})
	ours, err := netnsInode("self")
	if err != nil {
		t.Fatal(err)
	}
	if rep.Netns == ours || rep.Netns == 0 {
		t.Fatalf("the lab ran in namespace %d, ours is %d", rep.Netns, ours)
	}
	if len(rep.PIDs) < 13 { // 1+1+0+2+1+1+1+4+2 as root in the namespace
		t.Fatalf("the lab reports %d helpers, want every step's", len(rep.PIDs))
	}
	for _, pid := range rep.PIDs {
		if !alive(pid) {
			continue // a step that was redone ended its first helpers
		}
		if ino, err := netnsInode(strconv.Itoa(pid)); err != nil || ino != rep.Netns {
			t.Errorf("helper %d is in namespace %d (%v), not the lab's %d", pid, ino, err, rep.Netns)
		}
	}
	live := 0
	for _, pid := range rep.PIDs {
		if alive(pid) {
			live++
		}
	}
	if live < 13 {
		t.Fatalf("only %d helpers run before the kill", live)
	}

	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	deadline := time.Now().Add(5 * time.Second)
	for {
		var left []int
		for _, pid := range rep.PIDs {
			if alive(pid) {
				left = append(left, pid)
			}
		}
		members := netnsMembers(rep.Netns)
		if len(left) == 0 && len(members) == 0 {
			t.Logf("after kill -9: %d helpers gone, no process left in net:[%d]", live, rep.Netns)
			// Nor its files: the scene's directory was in a /run of
			// the namespace's own.
			if rep.Dir == "" {
				t.Error("the lab reported no directory")
			} else if _, err := os.Lstat(rep.Dir); !os.IsNotExist(err) {
				t.Errorf("after kill -9 the scene's directory %s is still on this machine (%v)", rep.Dir, err)
				os.RemoveAll(rep.Dir)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("5 s after kill -9: helpers %v still run, %d threads still in net:[%d]", left, len(members), rep.Netns)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// netnsMembers lists the threads of every process in network namespace ino.
func netnsMembers(ino uint64) []string {
	want := "net:[" + strconv.FormatUint(ino, 10) + "]"
	var found []string
	tasks, _ := filepath.Glob("/proc/[0-9]*/task/[0-9]*/ns/net")
	for _, p := range tasks {
		if l, err := os.Readlink(p); err == nil && l == want {
			found = append(found, p)
		}
	}
	return found
}
