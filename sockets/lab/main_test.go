//go:build linux

package lab

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// The tests run the test binary again: in a network namespace of its own
// (NamespaceCommand, as portwatch lab does), as the user nobody, or as a
// lab to be killed with SIGKILL. These variables tell the child which.
const (
	forceUnprivilegedEnv = "PORTWATCH_LAB_TEST_UNPRIVILEGED"
	asNobodyEnv          = "PORTWATCH_LAB_TEST_NOBODY"
	killChildEnv         = "PORTWATCH_LAB_TEST_KILL_CHILD"
)

// nobody is the credential of the user nobody.
var nobody = &syscall.Credential{Uid: 65534, Gid: 65534}

func TestMain(m *testing.M) {
	if os.Getenv(killChildEnv) != "" {
		os.Exit(killChild())
	}
	os.Exit(m.Run())
}

// childReport is what the lab to be killed tells the test.
type childReport struct {
	Netns uint64
	PIDs  []int
	Dir   string // the scene's directory
}

// killChild builds the scene, makes every step happen, reports its
// helpers and its namespace, and waits to be killed.
func killChild() int {
	sc, err := New(Options{Hold: time.Second})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := sc.Go(ctx, sc.Steps()-1); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ino, err := netnsInode("self")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	json.NewEncoder(os.Stdout).Encode(childReport{Netns: ino, PIDs: sc.(*scene).helperPIDs(), Dir: sc.(*scene).dir})
	time.Sleep(time.Hour) // until the test kills us
	return 1
}

// runTestChild runs the tests matching run in a child: in a new network
// namespace, or as cred, with env added. It returns the child's output.
func runTestChild(t *testing.T, run string, netns bool, cred *syscall.Credential, env ...string) (string, error) {
	t.Helper()
	args := []string{"-test.run=" + run, "-test.v", "-test.count=1", "-test.timeout=2m"}
	var cmd *exec.Cmd
	if netns {
		var err error
		if cmd, err = NamespaceCommand(args...); err != nil {
			t.Fatal(err)
		}
	} else {
		cmd = exec.Command(testBinary(t, cred != nil), args...)
		cmd.Env = os.Environ()
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Credential: cred}
	}
	cmd.Env = append(cmd.Env, env...)
	var out bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = nil, &out, &out
	// The child's Pdeathsig follows this thread: keep it while it runs.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	timer := time.AfterFunc(100*time.Second, func() { cmd.Process.Kill() })
	defer timer.Stop()
	err := cmd.Wait()
	return out.String(), err
}

// testBinary is this test binary; shared, a copy in a folder any user may
// enter and read (go test keeps it in a private one).
func testBinary(t *testing.T, shared bool) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if !shared {
		return self
	}
	dir, err := os.MkdirTemp("", "portwatch-lab-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	src, err := os.Open("/proc/self/exe")
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	bin := filepath.Join(dir, "lab.test")
	dst, err := os.OpenFile(bin, os.O_CREATE|os.O_WRONLY, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
	return bin
}
