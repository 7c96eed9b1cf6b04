//go:build linux

package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/portwatch/portwatch/sockets/assess"
	"github.com/portwatch/portwatch/sockets/events"
	"github.com/prometheus/client_golang/prometheus"
)

// nobodyUID is the unprivileged owner the tests give files to.
const nobodyUID = 65534

func needRoot(t *testing.T, why string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: " + why)
	}
}

// runBinary runs the built binary for at most 10 s: a run that would hang
// (a FIFO opened for reading) fails the test instead of hanging it.
func runBinary(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, sharedBinary(t), args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("%q did not end within 10s; stderr: %q", args, errb.String())
	}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	return cmd.ProcessState.ExitCode(), out.String(), errb.String()
}

// TestLogRefusesLinksFIFOsAndOthersFiles: --log through a symbolic link a
// local user planted in a directory every user may write (pointing at a
// root-only file), at a FIFO, or at a file uid 65534 made beforehand, is
// refused at once with one line naming the reason (exit 1), and the link's
// target is untouched. A new log is made 0600.
func TestLogRefusesLinksFIFOsAndOthersFiles(t *testing.T) {
	dir := t.TempDir()
	shared := filepath.Join(dir, "shared")
	os.Mkdir(shared, 0o777)
	os.Chmod(shared, 0o777)
	secret := filepath.Join(dir, "secret")
	os.WriteFile(secret, []byte("root only\n"), 0o600)
	link := filepath.Join(shared, "events.jsonl")
	if err := os.Symlink(secret, link); err != nil {
		t.Fatal(err)
	}
	os.Lchown(link, nobodyUID, nobodyUID)
	fifo := filepath.Join(dir, "fifo.jsonl")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct{ path, want string }{
		{link, "is a symbolic link; portwatch does not follow one here (in a shared directory it could point anywhere): name the file itself"},
		{fifo, "is a named pipe (FIFO), not a regular file"},
	}
	if os.Geteuid() == 0 {
		theirs := filepath.Join(dir, "theirs.jsonl")
		os.WriteFile(theirs, nil, 0o644)
		if err := os.Chown(theirs, nobodyUID, nobodyUID); err != nil {
			t.Fatal(err)
		}
		cases = append(cases, struct{ path, want string }{theirs,
			"is owned by uid 65534 (nobody), not by root: portwatch, as root, uses only root's files (another user could read or change it)"})
	}
	for _, c := range cases {
		code, out, errOut := runBinary(t, "watch", "--interval", "100ms", "--log", c.path)
		if want := "portwatch: --log " + c.path + ": " + c.want + "\n"; code != 1 || out != "" || errOut != want {
			t.Errorf("watch --log %s: exit %d, stdout %q, stderr %q; want 1 and %q", c.path, code, out, errOut, want)
		}
	}
	if b, _ := os.ReadFile(secret); string(b) != "root only\n" {
		t.Errorf("the root-only file behind the link was written: %q", b)
	}

	fresh := filepath.Join(dir, "fresh.jsonl")
	l, err := openEventLog(fresh)
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	if st, _ := os.Stat(fresh); st == nil || st.Mode().Perm() != 0o600 {
		t.Errorf("a new log's mode: %v, want 0600 (events name processes and users)", st.Mode().Perm())
	}
}

// TestBaselineFIFONeverHangs: a FIFO as the baseline is refused at once by
// --once and by watch (exit 2, one line); a baseline swapped for a FIFO
// before SIGHUP leaves watch polling with the old one, and SIGTERM still
// ends it within a second.
func TestBaselineFIFONeverHangs(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	want := "portwatch: baseline " + fifo + ": is a named pipe (FIFO), not a regular file\n"
	for _, args := range [][]string{{"--once", "--baseline", fifo}, {"--json", "--baseline", fifo}, {"watch", "--baseline", fifo}} {
		if code, out, errOut := runBinary(t, args...); code != 2 || out != "" || errOut != want {
			t.Errorf("%q: exit %d, stdout %.80q, stderr %q; want 2 and %q", args, code, out, errOut, want)
		}
	}
	if testing.Short() {
		return
	}
	base := filepath.Join(dir, "baseline")
	os.WriteFile(base, []byte("# nothing is expected\n"), 0o644)
	w := startWatch(t, "--interval", "100ms", "--baseline", base, "--log", filepath.Join(dir, "events.jsonl"))
	waitFor(t, 10*time.Second, "watch's start", func() (bool, string) {
		return strings.HasPrefix(w.stderrText(), "portwatch watch: every"), w.stderrText()
	})
	os.Remove(base)
	if err := syscall.Mkfifo(base, 0o644); err != nil {
		t.Fatal(err)
	}
	w.cmd.Process.Signal(syscall.SIGHUP)
	line := "portwatch watch: SIGHUP: baseline " + base + ": is a named pipe (FIFO), not a regular file; still using baseline " + base + " (0 entries)\n"
	waitFor(t, 5*time.Second, "the SIGHUP refusal", func() (bool, string) {
		return strings.Contains(w.stderrText(), line), w.stderrText()
	})
	if code := w.stop(syscall.SIGTERM); code != 0 {
		t.Errorf("exit %d after SIGTERM, want 0; stderr:\n%s", code, w.stderrText())
	}
}

// mountSmallDisk mounts a tmpfs of size (64k) of the test's own on a new
// directory, unmounted when the test ends.
func mountSmallDisk(t *testing.T, size string) string {
	t.Helper()
	needRoot(t, "mounts a small tmpfs to fill")
	dir := filepath.Join(t.TempDir(), "small")
	os.Mkdir(dir, 0o755)
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size+",mode=0755", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Fatalf("mount tmpfs: %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

// fillDisk writes a file in dir until the disk is full.
func fillDisk(t *testing.T, dir, name string) {
	t.Helper()
	f, err := os.Create(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := io.Copy(f, io.LimitReader(zeros{}, 64<<20)); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("filling the disk: %v, want ENOSPC", err)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// TestEventLogOnAFullDisk: on a real full disk (a 64 KiB tmpfs), an event
// that does not fit is taken back whole, so the log holds whole JSON lines
// only; every event not written is counted (Unwritten, and
// portwatch_events_unwritten_total) and said in the error; once there is
// room again, the next event is a line of its own, not glued to a part.
func TestEventLogOnAFullDisk(t *testing.T) {
	disk := mountSmallDisk(t, "64k")
	path := filepath.Join(disk, "events.jsonl")
	os.WriteFile(filepath.Join(disk, "room"), make([]byte, 16<<10), 0o644) // freed later
	l, err := openEventLog(path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ev := events.Event{Time: time.Now(), Kind: events.Unexpected, Risk: assess.RiskHigh, Netns: "host", Proto: "tcp", Address: "0.0.0.0",
		Port: 4444, Codes: []string{assess.CodeUnexpected}, Text: "not in the baseline: " + strings.Repeat("x", 3000)}
	written := 0
	var full error
	for range 100 {
		if full = l.Write([]events.Event{ev}); full != nil {
			break
		}
		written++
	}
	if want := "writing events to " + path + ": no space left on device (1 of 1 not written, 1 since the start)"; full == nil || full.Error() != want {
		t.Fatalf("the write that filled the disk: %v, want %q", full, want)
	}
	if err := l.Write([]events.Event{ev, ev}); err == nil || !strings.Contains(err.Error(), "no space left on device (2 of 2 not written, 3 since the start)") {
		t.Errorf("writing to the full disk: %v", err)
	}
	if n := l.Unwritten(); n != 3 {
		t.Errorf("Unwritten %d, want 3", n)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(l.unwrittenCounter())
	if mfs, _ := reg.Gather(); len(mfs) != 1 || mfs[0].GetName() != "portwatch_events_unwritten_total" || mfs[0].Metric[0].Counter.GetValue() != 3 {
		t.Errorf("the counter: %v", mfs)
	}
	b, _ := os.ReadFile(path)
	if evs, err := readEvents(t, string(b)); err != nil || len(evs) != written {
		t.Fatalf("the log on a full disk (%d events, %d written): %v", len(evs), written, err)
	}

	os.Remove(filepath.Join(disk, "room"))
	small := ev
	small.Text = "after the disk had room again"
	if err := l.Write([]events.Event{small}); err != nil {
		t.Fatal(err)
	}
	b, _ = os.ReadFile(path)
	evs, err := readEvents(t, string(b))
	if err != nil || len(evs) != written+1 || evs[written].Text != small.Text {
		t.Errorf("the log after room was made: %d events, %v; want %d whole ones ending with the new one", len(evs), err, written+1)
	}
}

// TestWatchCountsUnwrittenEvents: watch with its log on a disk that fills
// up after it started keeps polling, says on stderr that an event was not
// written, and exports portwatch_events_unwritten_total.
func TestWatchCountsUnwrittenEvents(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary")
	}
	disk := mountSmallDisk(t, "2m") // room for the first poll's events, about every listener of the machine
	dir := t.TempDir()
	base := filepath.Join(dir, "baseline")
	os.WriteFile(base, []byte("# nothing is expected\n"), 0o644)
	port := freePort(t)
	w := startWatch(t, "--interval", "100ms", "--baseline", base, "--log", filepath.Join(disk, "events.jsonl"), "--metrics-addr", fmt.Sprint(port))
	waitFor(t, 10*time.Second, "watch's first poll", func() (bool, string) {
		body, err := httpGet(fmt.Sprintf("http://127.0.0.1:%d/metrics", port))
		return err == nil && strings.Contains(body, "portwatch_events_unwritten_total 0\n") && strings.Contains(body, "portwatch_last_poll_timestamp_seconds "),
			body + w.stderrText()
	})
	fillDisk(t, disk, "filler")
	// Unexpected listeners: events, until one finds no room (the log's last
	// page may still hold a few).
	waitFor(t, 10*time.Second, "the unwritten event counted", func() (bool, string) {
		listenFixed(t)
		body, _ := httpGet(fmt.Sprintf("http://127.0.0.1:%d/metrics", port))
		mfs, _ := parseMetrics(body)
		n := series(mfs, "portwatch_events_unwritten_total")
		return len(n) == 1 && n[0]["__value__"] != "0", fmt.Sprint(n) + "\n" + body + "\nstderr: " + w.stderrText()
	})
	if s := w.stderrText(); !strings.Contains(s, "portwatch watch: writing events to "+filepath.Join(disk, "events.jsonl")+": ") {
		t.Errorf("stderr does not say the events were not written:\n%s", s)
	}
	if code := w.stop(syscall.SIGTERM); code != 0 {
		t.Errorf("exit %d after SIGTERM", code)
	}
}

// TestWatchStdoutReaderGone: watch | head ends watch with one line on
// stderr and exit code 1, not a silent death by SIGPIPE (141).
func TestWatchStdoutReaderGone(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary")
	}
	listenFixed(t) // at least one listener the baseline does not name: a first event
	base := filepath.Join(t.TempDir(), "baseline")
	os.WriteFile(base, []byte("# nothing is expected\n"), 0o644)
	r, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	head := exec.Command("head", "-n", "1")
	head.Stdin = r
	var headOut bytes.Buffer
	head.Stdout = &headOut
	w := &watchProc{t: t, stderr: &strings.Builder{}, done: make(chan struct{})}
	w.cmd = exec.Command(sharedBinary(t), "watch", "--interval", "100ms", "--baseline", base)
	w.cmd.Stdout, w.cmd.Stderr = pw, lockedWriter{&w.mu, w.stderr}
	if err := head.Start(); err != nil {
		t.Fatal(err)
	}
	if err := w.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r.Close()
	pw.Close()
	go func() { w.cmd.Wait(); close(w.done) }()
	t.Cleanup(func() { w.cmd.Process.Kill(); <-w.done })
	head.Wait()
	// More events until watch finds its reader gone.
	deadline := time.After(10 * time.Second)
	for ended := false; !ended; {
		select {
		case <-w.done:
			ended = true
		case <-deadline:
			t.Fatalf("watch still running 10s after head ended; stderr:\n%s", w.stderrText())
		case <-time.After(200 * time.Millisecond):
			listenFixed(t)
		}
	}
	st := w.cmd.ProcessState.Sys().(syscall.WaitStatus)
	lines := strings.Split(strings.TrimSuffix(w.stderrText(), "\n"), "\n")
	last := lines[len(lines)-1]
	if st.Signaled() || st.ExitStatus() != 1 || len(lines) != 2 ||
		!strings.HasPrefix(last, "portwatch: writing events to stdout: its reader has gone (broken pipe) (") {
		t.Errorf("watch | head: %v, stderr:\n%s\nwant exit 1 and a last line saying stdout's reader has gone", st, w.stderrText())
	}
	if !strings.HasPrefix(headOut.String(), `{"time":`) {
		t.Errorf("head read %q, want an event", headOut.String())
	}
}

// TestTextfileAndSaveRefuseWhatIsNotAFile: a directory or a symbolic link
// at --textfile is refused before the first poll, in one line; baseline
// save onto a symbolic link is refused and leaves the link and its target
// as they were, and into a missing directory makes none; as root, onto a
// file uid 65534 owns, is refused naming the owner.
func TestTextfileAndSaveRefuseWhatIsNotAFile(t *testing.T) {
	dir := t.TempDir()
	isDir := filepath.Join(dir, "dir.prom")
	os.Mkdir(isDir, 0o755)
	target := filepath.Join(dir, "target")
	os.WriteFile(target, []byte("# kept\n"), 0o644)
	link := filepath.Join(dir, "link.prom")
	os.Symlink(target, link)
	for path, reason := range map[string]string{
		isDir: "is a directory, not a regular file",
		link:  "is a symbolic link; portwatch does not follow one here (in a shared directory it could point anywhere): name the file itself",
	} {
		code, out, errOut := runArgs(t, "watch", "--textfile", path)
		if want := "portwatch: --textfile " + path + ": " + reason + "\n"; code != 1 || out != "" || errOut != want {
			t.Errorf("watch --textfile %s: exit %d, stdout %q, stderr %q; want 1 and %q", path, code, out, errOut, want)
		}
	}

	saveLink := filepath.Join(dir, "baseline-link")
	os.Symlink(target, saveLink)
	code, out, errOut := runArgs(t, "baseline", "save", saveLink)
	if want := "portwatch: saving the baseline to " + saveLink + ": is a symbolic link; "; code != 1 || out != "" || !strings.HasPrefix(errOut, want) || strings.Count(errOut, "\n") != 1 {
		t.Errorf("baseline save onto a link: exit %d, stdout %q, stderr %q; want 1 and a line starting %q", code, out, errOut, want)
	}
	if fi, _ := os.Lstat(saveLink); fi == nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Error("baseline save replaced the link")
	}
	if b, _ := os.ReadFile(target); string(b) != "# kept\n" {
		t.Errorf("the link's target changed: %q", b)
	}
	nested := filepath.Join(dir, "a", "b", "baseline")
	code, _, errOut = runArgs(t, "baseline", "save", nested)
	if want := "portwatch: saving the baseline to " + nested + ": directory " + filepath.Dir(nested) + " does not exist (portwatch creates no directories)\n"; code != 1 || errOut != want {
		t.Errorf("baseline save into a missing directory: exit %d, %q; want 1 and %q", code, errOut, want)
	}
	if _, err := os.Stat(filepath.Join(dir, "a")); err == nil {
		t.Error("baseline save made a directory")
	}
	if os.Geteuid() == 0 {
		theirs := filepath.Join(dir, "theirs")
		os.WriteFile(theirs, []byte("# theirs\n"), 0o644)
		os.Chown(theirs, nobodyUID, nobodyUID)
		code, _, errOut = runArgs(t, "baseline", "save", theirs)
		if code != 1 || !strings.Contains(errOut, ": is owned by uid 65534 (nobody), not by root") {
			t.Errorf("baseline save onto uid 65534's file: exit %d, %q", code, errOut)
		}
	}
}
