//go:build linux

package main

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/portwatch/portwatch/sockets/lab"
	"github.com/portwatch/portwatch/sockets/sockettest"
)

func TestLabCommandLine(t *testing.T) {
	cmd := newLabCommand(nil)
	newRootCommand(nil).AddCommand(cmd) // its messages name portwatch lab
	if cmd.Name() != "lab" {
		t.Errorf("the command is %q, want lab", cmd.Name())
	}
	f := cmd.Flags().Lookup("no-netns")
	if f == nil || f.Value.Type() != "bool" || f.DefValue != "false" {
		t.Fatalf("--no-netns: %+v", f)
	}
	if cmd.Flags().Lookup("help") == nil {
		t.Error("portwatch lab has no --help")
	}
	if err := cmd.ParseFlags([]string{"--no-netns"}); err != nil {
		t.Fatal(err)
	}
	if v, _ := cmd.Flags().GetBool("no-netns"); !v {
		t.Error("--no-netns did not set the flag")
	}
	var u errUsage
	if err := cmd.Args(cmd, []string{"start"}); !errors.As(err, &u) || !strings.Contains(u.msg, "portwatch lab takes flags only") {
		t.Errorf("an argument to portwatch lab: %v", err)
	}
}

func TestLabPlace(t *testing.T) {
	for _, c := range []struct {
		noNetns     bool
		euid        int
		inNamespace bool
		want        string
	}{
		{false, 0, false, labNamespace},    // root: a namespace of its own
		{true, 0, false, labHere},          // --no-netns: loopback
		{false, 0, true, labHere},          // the namespace process itself
		{false, 1000, false, labNamespace}, // not root: a user namespace of its own too
		{true, 1000, false, labHere},
	} {
		if got := labPlace(labConfig{noNetns: c.noNetns}, c.euid, c.inNamespace); got != c.want {
			t.Errorf("labPlace(no-netns %v, euid %d, in namespace %v) = %s, want %s", c.noNetns, c.euid, c.inNamespace, got, c.want)
		}
	}
}

// labFailEnv makes the lab's namespace process fail, to see its exit code
// come back.
const labFailEnv = "PORTWATCH_TEST_LAB_FAIL"

// TestLabRunsInItsNamespace runs runLab as root: it runs this test binary
// again in a new network namespace, where this same test, seeing it is
// there, builds the scene through runLab and a monitor that steps into it.
func TestLabRunsInItsNamespace(t *testing.T) {
	if lab.InNamespace() {
		labNamespaceChild(t)
		return
	}
	sockettest.NeedRoot(t, "to make a network namespace")
	old := labChildArgs
	t.Cleanup(func() { labChildArgs = old })
	labChildArgs = func() []string {
		return []string{"-test.run=^TestLabRunsInItsNamespace$", "-test.v", "-test.count=1", "-test.timeout=1m"}
	}
	out, err := runLabCapturing(t)
	if err != nil || !strings.Contains(out, "--- PASS: TestLabRunsInItsNamespace") {
		t.Fatalf("runLab: %v\n%s", err, out)
	}
	// Once runLab has returned, the lab's namespace has no process left:
	// the kernel has deleted it.
	m := regexp.MustCompile(`the lab's namespace: (net:\[\d+\])`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("the namespace process did not say where it ran:\n%s", out)
	}
	if self, _ := os.Readlink("/proc/self/ns/net"); self == m[1] {
		t.Fatalf("the lab ran in this process's namespace %s", self)
	}
	tasks, _ := filepath.Glob("/proc/[0-9]*/task/[0-9]*/ns/net")
	for _, p := range tasks {
		if l, _ := os.Readlink(p); l == m[1] {
			t.Errorf("%s is still in the lab's namespace %s after runLab returned", p, m[1])
		}
	}

	t.Setenv(labFailEnv, "1")
	out, err = runLabCapturing(t)
	if !errors.Is(err, errLabExit{3}) {
		t.Fatalf("runLab with a failing namespace process: %v, want %v\n%s", err, errLabExit{3}, out)
	}
}

// runLabCapturing runs runLab as root would, with the namespace process's
// output in a file rather than on the test's.
func runLabCapturing(t *testing.T) (string, error) {
	t.Helper()
	f, err := os.CreateTemp("", "portwatch-lab-out-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	stdout, stderr := os.Stdout, os.Stderr
	os.Stdout, os.Stderr = f, f
	err = runLab(labConfig{}, nil) // the namespace process starts the monitor
	os.Stdout, os.Stderr = stdout, stderr
	out, _ := os.ReadFile(f.Name())
	return string(out), err
}

// labNamespaceChild is the namespace process's side: runLab builds the
// scene here and hands it to the monitor; SIGTERM closes it while the
// monitor runs; runLab's return finds it closed.
func labNamespaceChild(t *testing.T) {
	if os.Getenv(labFailEnv) != "" {
		os.Exit(3)
	}
	ns, _ := os.Readlink("/proc/self/ns/net")
	t.Logf("the lab's namespace: %s", ns)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	server := "127.0.0.1:" + "62001"
	ran := false
	monitor := func(scene lab.Scene, _ labConfig) error {
		ran = true
		n, err := scene.Go(ctx, 0)
		if err != nil {
			t.Fatalf("step 1: %v", err)
		}
		if n.Filter != ":62001" || n.Step != 1 {
			t.Errorf("step 1's narration: %+v", n)
		}
		c, err := net.Dial("tcp4", server)
		if err != nil {
			t.Fatalf("step 1's server does not answer: %v", err)
		}
		c.Close()
		syscall.Kill(os.Getpid(), syscall.SIGTERM)
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			c, err := net.Dial("tcp4", server)
			if err != nil {
				break
			}
			c.Close()
			if time.Now().After(deadline) {
				t.Fatal("SIGTERM did not close the scene within 5 s")
			}
		}
		if _, err := scene.Go(ctx, 0); err == nil {
			t.Error("the scene still steps after SIGTERM closed it")
		}
		return nil
	}
	if err := runLab(labConfig{}, monitor); err != nil {
		t.Fatalf("runLab in the namespace: %v", err)
	}
	if !ran {
		t.Fatal("runLab did not start the monitor")
	}
	if c, err := net.Dial("tcp4", server); err == nil {
		c.Close()
		t.Error("the scene's server still answers after runLab returned")
	}
}
