//go:build linux

package collect

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/sockettest"
	"golang.org/x/sys/unix"
)

// inPidNamespaceEnv makes the test binary, started again inside a new pid
// namespace, run the pid-reuse scene there and report on stdout.
const inPidNamespaceEnv = "PORTWATCH_TEST_PID_REUSE"

// pidReuseScene runs as pid 1 of a fresh pid namespace, with its own /proc:
// a process is started and recorded as the user's choice, it exits, its pid
// is handed to an unrelated process (ns_last_pid), and Signal is asked to
// end the recorded process. It must refuse and leave the newcomer alive.
func pidReuseScene() error {
	first := exec.Command("sleep", "60")
	if err := first.Start(); err != nil {
		return err
	}
	chosen := processOf(int32(first.Process.Pid))
	first.Process.Kill()
	first.Wait()
	// Another clock tick, so that the newcomer's start time differs.
	if !sockettest.Within(5*time.Second, func() (bool, string) { return tickedPast(chosen.StartTicks) }) {
		return errors.New("the boot clock did not tick past the first process's start time")
	}
	var newcomer *exec.Cmd
	for try := 0; try < 20; try++ {
		if err := os.WriteFile("/proc/sys/kernel/ns_last_pid", []byte(strconv.Itoa(int(chosen.PID)-1)), 0); err != nil {
			return fmt.Errorf("ns_last_pid: %w", err)
		}
		c := exec.Command("sleep", "60")
		if err := c.Start(); err != nil {
			return err
		}
		if int32(c.Process.Pid) == chosen.PID {
			newcomer = c
			break
		}
		c.Process.Kill()
		c.Wait()
	}
	if newcomer == nil {
		return errors.New("the pid was not reused")
	}
	defer func() { newcomer.Process.Kill(); newcomer.Wait() }()
	err := Signal(chosen, syscall.SIGTERM)
	if !errors.Is(err, ErrNotSameProcess) {
		return fmt.Errorf("Signal to a reused pid returned %v, want ErrNotSameProcess", err)
	}
	if err := syscall.Kill(newcomer.Process.Pid, 0); err != nil {
		return fmt.Errorf("the newcomer was hit: %v", err)
	}
	// The newcomer itself, named exactly, is signalled.
	if err := Signal(processOf(chosen.PID), syscall.SIGTERM); err != nil {
		return fmt.Errorf("Signal to the process itself: %v", err)
	}
	if _, err := newcomer.Process.Wait(); err != nil {
		return err
	}
	return nil
}

// tickedPast reports whether the boot clock, counted in the ticks of a
// process's start time (/proc/PID/stat's field 22: USER_HZ, 100 a second),
// is past ticks: a process started from now on starts later.
func tickedPast(ticks uint64) (bool, string) {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts); err != nil {
		return false, err.Error()
	}
	now := uint64(ts.Nano()) / uint64(time.Second/100)
	return now > ticks, fmt.Sprintf("now %d ticks, the process started at %d", now, ticks)
}

func processOf(pid int32) sockets.Process {
	start, _ := readStartTicks("/proc", pid)
	exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
	return sockets.Process{PID: pid, StartTicks: start, Exe: exe}
}

// TestSignalNeverHitsAReusedPid: a real pid reuse, in a pid namespace the
// test creates, between the choice and the signal.
func TestSignalNeverHitsAReusedPid(t *testing.T) {
	sockettest.NeedRoot(t, "for a pid namespace and ns_last_pid")
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("unshare is not installed")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("unshare", "--pid", "--fork", "--mount-proc", self, "-test.run=^$")
	cmd.Env = append(os.Environ(), inPidNamespaceEnv+"=1")
	out, err := cmd.CombinedOutput()
	if strings.Contains(string(out), "unshare failed") || strings.Contains(string(out), "Operation not permitted") {
		t.Skipf("no pid namespace here: %s", out)
	}
	if err != nil || !strings.Contains(string(out), "pid reuse: refused") {
		t.Fatalf("the scene failed: %v\n%s", err, out)
	}
}

// TestSignalChecksTheExecutable: the same pid and start time with another
// executable (an exec since the poll) is not the process the user chose.
func TestSignalChecksTheExecutable(t *testing.T) {
	c := exec.Command("sleep", "60")
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { c.Process.Kill(); c.Wait() }()
	p := processOf(int32(c.Process.Pid))
	other := p
	other.Exe = "/usr/sbin/sshd"
	if err := Signal(other, syscall.SIGTERM); !errors.Is(err, ErrNotSameProcess) {
		t.Errorf("another executable: %v, want ErrNotSameProcess", err)
	}
	later := p
	later.StartTicks++
	if err := Signal(later, syscall.SIGTERM); !errors.Is(err, ErrNotSameProcess) {
		t.Errorf("another start time: %v, want ErrNotSameProcess", err)
	}
	if err := Signal(sockets.Process{PID: 1}, syscall.SIGTERM); err == nil {
		t.Error("pid 1 was signalled")
	}
	if err := Signal(p, syscall.SIGTERM); err != nil {
		t.Fatalf("the process itself: %v", err)
	}
	if err := c.Wait(); err == nil {
		t.Error("sleep survived SIGTERM")
	}
}
