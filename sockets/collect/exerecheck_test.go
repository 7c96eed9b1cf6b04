//go:build linux

package collect

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// A binary deleted while its process runs is flagged by a running Live within seconds, though the
// process was read (and cached) before: the cache reads /proc/PID/exe again.
func TestDeletedExecutableIsSeenByALongRunningLive(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the re-check of the executable")
	}
	py := pythonPath(t)
	bin := filepath.Join(t.TempDir(), "pwtest-copied-python")
	src, err := os.Open(py)
	if err != nil {
		t.Fatal(err)
	}
	out, err := os.OpenFile(bin, os.O_CREATE|os.O_WRONLY, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.Copy(out, src)
	src.Close()
	if cerr := out.Close(); err != nil || cerr != nil {
		t.Fatal(err, cerr)
	}
	c := startChild(t, exec.Command(bin, "-c", `import socket,sys,time
s=socket.socket(); s.bind(("127.0.0.1",0)); s.listen(); print(s.getsockname()[1], flush=True); sys.stdin.readline()`))
	port := c.port(t)
	live := NewLive()
	exeDeleted := func() (bool, string) {
		s := listenerOn(t, snapshot(t, live), port)
		for _, p := range s.Owners {
			if int(p.PID) == c.pid() {
				return p.ExeDeleted, p.Exe
			}
		}
		t.Fatalf("our listener on %d has no owner %d", port, c.pid())
		return false, ""
	}
	if deleted, exe := exeDeleted(); deleted || exe != bin {
		t.Fatalf("before: exe %q deleted %v, want %q", exe, deleted, bin)
	}
	if err := os.Remove(bin); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(exeRecheckEvery + 5*time.Second)
	for {
		deleted, exe := exeDeleted()
		if deleted && exe == bin {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the deletion of %s not seen within %v (exe %q)", bin, exeRecheckEvery+5*time.Second, exe)
		}
		time.Sleep(100 * time.Millisecond) // between two polls, as a monitor's interval
	}
}
