//go:build linux

package lab

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// spawner starts the scene's helpers from one OS thread that lives as long
// as the scene. A helper's Pdeathsig fires when the thread that forked it
// ends, not the process: Go may end a thread under a goroutine that exits
// locked to it, and a helper forked there would be killed at a random
// moment. Forking from a thread the scene keeps gives the signal one
// meaning: the scene is gone. When Close stops the spawner, its goroutine
// returns still locked, the runtime ends the thread, and any helper still
// alive is killed by the kernel; kill -9 of the whole process does the same.
type spawner struct {
	reqs chan spawnReq
	quit chan struct{}
	done chan struct{}
}

type spawnReq struct {
	cmd *exec.Cmd
	res chan error
}

func newSpawner() *spawner {
	sp := &spawner{reqs: make(chan spawnReq), quit: make(chan struct{}), done: make(chan struct{})}
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with the goroutine
		defer close(sp.done)
		for {
			select {
			case r := <-sp.reqs:
				r.res <- r.cmd.Start()
			case <-sp.quit:
				return
			}
		}
	}()
	return sp
}

func (sp *spawner) start(cmd *exec.Cmd) error {
	r := spawnReq{cmd: cmd, res: make(chan error, 1)}
	select {
	case sp.reqs <- r:
		return <-r.res
	case <-sp.done:
		return errors.New("the scene is closed")
	}
}

// stop ends the spawner's thread; idempotent.
func (sp *spawner) stop() {
	select {
	case <-sp.quit:
	default:
		close(sp.quit)
	}
	<-sp.done
}

// reply is a helper's answer to one order.
type reply struct {
	words []string // after "ok"
	err   error    // a *helperError, or why there is no answer
}

// helperError is a helper's refusal: Errno is set when the system said why.
type helperError struct {
	Errno syscall.Errno
	Text  string
}

func (e *helperError) Error() string { return e.Text }

// Unwrap lets errors.Is(err, syscall.ECONNREFUSED) see the system's reason.
func (e *helperError) Unwrap() error {
	if e.Errno == 0 {
		return nil
	}
	return e.Errno
}

// errnoNamed is the errno unix.ErrnoName calls name, or 0.
func errnoNamed(name string) syscall.Errno {
	for e := syscall.Errno(1); e < 256; e++ {
		if unix.ErrnoName(e) == name {
			return e
		}
	}
	return 0
}

// errHelperGone is the answer to an order whose helper has ended.
var errHelperGone = errors.New("the helper process ended")

// helper is the scene's handle on one helper process.
type helper struct {
	name string
	pid  int
	cmd  *exec.Cmd
	in   io.WriteCloser
	done chan struct{} // closed when the helper's output ends (it exited)

	mu       sync.Mutex
	next     int
	pending  map[int]chan reply
	waitOnce sync.Once
}

// startHelper starts a helper named name (argv[0] and comm; tag follows it
// on the command line, so that a filter or ps finds the lab's processes).
// exe is the program to run: "" for this one (its copy in the scene's
// directory, where there is one: files.go).
func (s *scene) startHelper(ctx context.Context, name, tag, exe string) (*helper, error) {
	if exe == "" {
		exe = s.helperExe
	}
	if exe == "" {
		exe = "/proc/self/exe"
	}
	cmd := &exec.Cmd{Path: exe, Args: []string{name, tag}}
	cmd.Env = append(helperEnviron(), helperEnv+"="+name)
	// A helper says nothing to the terminal the monitor draws on; what it
	// writes on stderr (a panic) is kept for the error that reports it.
	stderr := &tailBuffer{}
	cmd.Stderr = stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Pdeathsig: syscall.SIGKILL, // dies with the scene's thread: kill -9 of portwatch included
		Setpgid:   true,            // a ^C in the terminal is the scene's to handle, not the helper's
	}
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := s.spawn.start(cmd); err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	h := &helper{name: name, pid: cmd.Process.Pid, cmd: cmd, in: in, done: make(chan struct{}),
		pending: map[int]chan reply{}}
	s.pidMu.Lock()
	s.pids = append(s.pids, h.pid)
	s.pidMu.Unlock()
	ready := make(chan error, 1)
	go h.read(out, ready)
	select {
	case err := <-ready:
		if err != nil {
			h.kill()
			if tail := stderr.String(); tail != "" {
				err = fmt.Errorf("%w: %s", err, tail)
			}
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	case <-ctx.Done():
		h.kill()
		return nil, ctx.Err()
	case <-time.After(15 * time.Second):
		h.kill()
		return nil, fmt.Errorf("%s did not start within 15 s", name)
	}
	return h, nil
}

// helperEnviron is this process's environment without the lab's own
// markers: a helper is never mistaken for the lab's namespace process.
func helperEnviron() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, helperEnv+"=") || strings.HasPrefix(kv, namespaceEnv+"=") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// read follows the helper's output until it ends.
func (h *helper) read(out io.Reader, ready chan<- error) {
	defer func() {
		h.mu.Lock()
		for id, ch := range h.pending {
			ch <- reply{err: errHelperGone}
			delete(h.pending, id)
		}
		h.mu.Unlock()
		close(h.done)
	}()
	sc := bufio.NewScanner(out)
	first := true
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if first {
			first = false
			if len(f) == 0 || f[0] != "ready" {
				ready <- fmt.Errorf("unexpected first line %q", sc.Text())
				return
			}
			ready <- nil
			continue
		}
		if len(f) < 2 {
			continue
		}
		id, err := strconv.Atoi(f[0])
		if err != nil {
			continue
		}
		r := reply{}
		switch {
		case f[1] == "ok":
			r.words = f[2:]
		case f[1] == "err" && len(f) >= 3:
			e := &helperError{Text: strings.Join(f[3:], " ")}
			if f[2] != "-" {
				e.Errno = errnoNamed(f[2])
			}
			r.err = e
		default:
			r.err = fmt.Errorf("unreadable answer %q", sc.Text())
		}
		h.mu.Lock()
		ch := h.pending[id]
		delete(h.pending, id)
		h.mu.Unlock()
		if ch != nil {
			ch <- r
		}
	}
	if first {
		ready <- errors.New("ended before it was ready")
	}
}

// send gives the helper an order and returns where its answer will come.
func (h *helper) send(verb string, args ...string) <-chan reply {
	ch := make(chan reply, 1)
	h.mu.Lock()
	h.next++
	id := h.next
	h.pending[id] = ch
	h.mu.Unlock()
	line := strconv.Itoa(id) + " " + verb + " " + strings.Join(args, " ") + "\n"
	if _, err := io.WriteString(h.in, line); err != nil {
		h.mu.Lock()
		delete(h.pending, id)
		h.mu.Unlock()
		ch <- reply{err: fmt.Errorf("%s: %w", h.name, errHelperGone)}
	}
	return ch
}

// call gives an order and waits for its answer.
func (h *helper) call(ctx context.Context, verb string, args ...string) ([]string, error) {
	select {
	case r := <-h.send(verb, args...):
		if r.err != nil {
			return nil, fmt.Errorf("%s: %s %s: %w", h.name, verb, strings.Join(args, " "), r.err)
		}
		return r.words, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// kill ends the helper at once and reaps it. Its sockets reset (SO_LINGER
// 0), so nothing of it lingers in TIME_WAIT. Idempotent.
func (h *helper) kill() {
	h.waitOnce.Do(func() {
		h.cmd.Process.Signal(syscall.SIGKILL)
		h.in.Close()
		h.cmd.Wait()
	})
}

// alive reports whether the helper still runs (a student may have ended
// it with K).
func (h *helper) alive() bool {
	select {
	case <-h.done:
		return false
	default:
		return true
	}
}

// copyProgram copies this program to dir/name, so that a helper runs from
// there under that name (the backdoor of step 7). A hard link is tried
// first: same bytes, no copy.
func copyProgram(dir, name string) (string, error) {
	self, err := os.Executable()
	if err != nil {
		return "", err
	}
	dst := filepath.Join(dir, name)
	if os.Link(self, dst) == nil {
		return dst, nil
	}
	src, err := os.Open("/proc/self/exe")
	if err != nil {
		return "", err
	}
	defer src.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o700)
	if err != nil {
		return "", err
	}
	if _, err := io.Copy(out, src); err != nil {
		out.Close()
		return "", err
	}
	return dst, out.Close()
}

// tailBuffer keeps the last KiB written to it.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if len(b.buf) > 1024 {
		b.buf = b.buf[len(b.buf)-1024:]
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.TrimSpace(string(b.buf))
}
