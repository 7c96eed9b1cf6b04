//go:build linux

package lab

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/portwatch/portwatch/sockets"
)

// Narration is what the class is told at a step.
type Narration struct {
	Step, Steps int    // 1-based step number and how many there are
	Title       string // "2. A client connects"
	Text        string // what just happened for real, and what to look at on screen: a few short sentences
	Tab         string // the tab to show: "listening", "established" or "all"
	Filter      string // text that picks out the step's sockets in the monitor's filter (e.g. ":47001"), or ""
}

// Scene is a lab: steps that each make something real happen.
type Scene interface {
	Steps() int
	// Go makes step i happen (0-based) and returns its narration. Going back
	// (i smaller than the current step) undoes what later steps made, so the
	// sockets on screen are always the ones the narration speaks of. It does
	// I/O and may take up to a couple of seconds; the monitor calls it in a
	// command, never on its UI goroutine, and never two at a time.
	//
	// Going to the current step or back to an earlier one undoes that step
	// too and makes it happen again: step 3 uses up step 2's connection, so
	// showing step 2 again means connecting again. Going forward past
	// several steps makes each of them happen in order. A step that fails
	// is undone, and the scene stays at the step before it.
	Go(ctx context.Context, i int) (Narration, error)
	// Close ends every process and socket the scene made. Idempotent.
	Close() error
	// Mine reports whether a socket is one of the scene's: the monitor
	// shows only those by default, so that every student of a class sees
	// their own scene (see ports.go).
	Mine(s *sockets.Socket) bool
	// InOwnNamespace reports whether the scene runs in a network namespace
	// of its own, which the collector labels host and the monitor should
	// call NetnsLabel.
	InOwnNamespace() bool
	// BaselinePath is the baseline the scene wrote for itself: every
	// teaching server is expected, the backdoor is not.
	BaselinePath() string
}

// Options choose how the scene runs.
type Options struct {
	// Unprivileged takes the path of a user without root even as root and
	// in the lab's namespace: high ports only, and no firewall rule (the
	// firewall step says what it cannot show).
	Unprivileged bool
	// NoNamespace is why the lab has no network namespace of its own,
	// in a few words ("--no-netns", the kernel's refusal): the steps that
	// need one say it where they say what they cannot show.
	NoNamespace string
	// Hold is how long the scene holds each passing state so that a 1 s
	// poll sees it (step 3's FIN_WAIT1, CLOSE_WAIT and LAST_ACK, step 4's
	// next client, step 9's connections). 0 means DefaultHold.
	Hold time.Duration
}

// DefaultHold is the pace of a class: each passing state stays on screen
// for four polls.
const DefaultHold = 4 * time.Second

// The lab's ports, as they are in the lab's own namespace. On loopback a
// scene moves them to a block of free ports of its own (ports.go), so that
// a class runs many labs at once; the blocks are above Linux's ephemeral
// range (32768-60999 by default): no outgoing connection of the machine
// holds one of them as its local port, which would keep a 0.0.0.0
// listener from binding and put strangers' rows under the filter.
const (
	PortServer        = 62001 // steps 1 to 3: lab-server
	PortClient        = 62002 // steps 2 and 3: lab-client's end
	PortLeaky         = 62004 // step 4: leaky-server
	PortFiltered      = 62051 // step 5: SYNs are dropped
	PortClosed        = 62052 // step 5: nothing listens
	PortLoopbackOnly  = 62061 // step 6
	PortAllInterfaces = 62062 // step 6
	PortBackdoor      = 4444  // step 7: kworker
	// Step 8 uses 21, 23 and 8443 as root in the lab's namespace, else these.
	PortFTPHigh    = 62071
	PortTelnetHigh = 62073
	PortTLSHigh    = 62074
	// Step 10's web server and remote administration use 22, 80 and 443 as
	// root in the lab's namespace, else these.
	PortSSHHigh   = 62022
	PortHTTPHigh  = 62028
	PortHTTPSHigh = 62024
	// Step 9: lab-services listens on ScanOpen ports from ScanFirst+1,
	// lab-scanner knocks on ScanPorts ports from ScanFirst.
	ScanFirst = 62080
	ScanPorts = 10
	ScanOpen  = 8
)

// ScanSource is the address the port scan of step 9 comes from: one of
// loopback's many addresses, so that it stands out as one remote.
const ScanSource = "127.6.6.6"

// scene is the Scene.
type scene struct {
	hold       time.Duration
	netns      bool   // in the lab's own namespace
	userns     bool   // and a user namespace of its own: root there, an ordinary user on the machine
	privileged bool   // and root there: well-known ports, its own firewall rule
	noNetns    string // why there is no namespace of its own (Options.NoNamespace)
	spawn      *spawner
	base       int          // the block of ports (ports.go): 62000 in the namespace
	backdoor   atomic.Int32 // step 7's port: 4444, unless another lab holds it; read by Mine in the poll
	lock       int          // the socket that holds the block on loopback, or -1
	dir        string       // the scene's own files: its baseline, its named servers
	baseline   string       // the baseline file in dir
	helperExe  string       // the copy of this program in dir the helpers run, or "" (files.go)

	ctx    context.Context // ended by Close: stops a Go in progress
	cancel context.CancelFunc

	mu       sync.Mutex // serialises Go and Close
	cur      int        // the last step done, -1 before the first
	states   []*stepState
	closed   bool
	closeErr error

	// What steps share: step 3 closes the connection step 2 made to the
	// server of step 1.
	server      *helper
	client      *helper
	clientLocal string // the client's end, "127.0.0.1:PORT"
	serverConn  string // the server's key for its end
	refused     error  // step 5: what connect() to the closed port said

	pidMu   sync.Mutex
	pids    []int // every helper started, for tests
	helpers []*helper
}

// New builds the scene: in a network namespace of its own when the process
// runs in one made for it (see cmd), else on loopback high ports.
func New(opts Options) (Scene, error) {
	s := &scene{hold: opts.Hold, cur: -1, states: make([]*stepState, len(steps))}
	if s.hold <= 0 {
		s.hold = DefaultHold
	}
	s.noNetns = opts.NoNamespace
	s.netns = InNamespace()
	s.userns = InUserNamespace()
	if s.netns {
		if err := privateRun(); err != nil {
			if s.userns {
				return nil, powerless(err)
			}
			return nil, err
		}
	}
	if s.netns {
		if err := loopbackUp(); err != nil {
			if s.userns {
				return nil, powerless(err)
			}
			return nil, err
		}
	}
	s.privileged = s.netns && os.Geteuid() == 0 && !opts.Unprivileged
	s.base, s.lock = defaultBase, -1
	s.backdoor.Store(PortBackdoor)
	if !s.netns {
		base, fd, err := reserveBlock()
		if err != nil {
			return nil, err
		}
		s.base, s.lock = base, fd
	}
	if err := s.writeFiles(); err != nil {
		s.release()
		return nil, err
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.spawn = newSpawner()
	return s, nil
}

// powerless: in its own user namespace, the lab was refused what root in
// it may do (a security module's rule); said as ErrUserNamespacePowerless.
func powerless(err error) error {
	if errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EACCES) {
		return fmt.Errorf("%w: %v", ErrUserNamespacePowerless, err)
	}
	return err
}

// Steps is how many steps the scene has.
func (s *scene) Steps() int { return len(steps) }

var errClosed = errors.New("the lab is closed")

// Go makes step i happen; see Scene.
func (s *scene) Go(ctx context.Context, i int) (Narration, error) {
	if i < 0 || i >= len(steps) {
		return Narration{}, fmt.Errorf("there is no step %d: the lab has steps 1 to %d", i+1, len(steps))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return Narration{}, errClosed
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(s.ctx, cancel) // Close stops a step in progress
	defer stop()
	from := i
	if u := steps[i].usesStep; i <= s.cur && u > 0 && u-1 < from {
		from = u - 1 // its sockets are used up: that step happens again first
	}
	var notes []string
	for j := s.cur; j >= from; j-- {
		notes = append(notes, s.undo(j)...)
		s.cur = j - 1
	}
	var n Narration
	for j := s.cur + 1; j <= i; j++ {
		st := &stepState{}
		st.ctx, st.cancel = context.WithCancel(s.ctx)
		s.states[j] = st
		text, filter, err := steps[j].do(ctx, s, st)
		if err != nil {
			s.undo(j)
			return Narration{}, fmt.Errorf("step %d (%s): %w", j+1, steps[j].title, err)
		}
		s.cur = j
		n = Narration{Step: j + 1, Steps: len(steps), Title: strconv.Itoa(j+1) + ". " + steps[j].title,
			Text: text, Tab: steps[j].tab, Filter: filter}
	}
	for _, note := range notes {
		n.Text += " (" + note + ")"
	}
	return n, nil
}

// Close ends every process and socket the scene made; see Scene.
func (s *scene) Close() error {
	s.cancel()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return s.closeErr
	}
	s.closed = true
	var errs []error
	for j := s.cur; j >= 0; j-- {
		for _, note := range s.undo(j) {
			errs = append(errs, errors.New(note))
		}
	}
	s.cur = -1
	// Whatever a step lost track of: every helper ever started.
	s.pidMu.Lock()
	all := s.helpers
	s.pidMu.Unlock()
	for _, h := range all {
		h.kill()
	}
	s.spawn.stop()
	s.release()
	s.closeErr = errors.Join(errs...)
	return s.closeErr
}

// stepState is what one step made, for undo.
type stepState struct {
	ctx      context.Context // the step's background work; undo ends it
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	helpers  []*helper
	cleanups []func(context.Context) error // run last first, before the helpers end
	phase    int                           // how far the step's timeline got (step 3)
	phaseMu  sync.Mutex
}

// background runs f while the step stands; undo stops it and waits.
func (st *stepState) background(f func(ctx context.Context)) {
	st.wg.Add(1)
	go func() {
		defer st.wg.Done()
		f(st.ctx)
	}()
}

func (st *stepState) setPhase(p int) {
	st.phaseMu.Lock()
	st.phase = p
	st.phaseMu.Unlock()
}

func (st *stepState) getPhase() int {
	st.phaseMu.Lock()
	defer st.phaseMu.Unlock()
	return st.phase
}

// cleanup adds f to what undo runs.
func (st *stepState) cleanup(f func(context.Context) error) { st.cleanups = append(st.cleanups, f) }

// undo takes back what step j made: its background work stops, its
// cleanups run (last first), its helpers are killed (their sockets reset).
// It returns what could not be undone, in words.
func (s *scene) undo(j int) []string {
	st := s.states[j]
	if st == nil {
		return nil
	}
	s.states[j] = nil
	st.cancel()
	st.wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var notes []string
	for k := len(st.cleanups) - 1; k >= 0; k-- {
		if err := st.cleanups[k](ctx); err != nil {
			notes = append(notes, fmt.Sprintf("undoing step %d: %v", j+1, err))
		}
	}
	for _, h := range st.helpers {
		h.kill()
	}
	return notes
}

// helper starts a helper for step st: it is killed when the step is undone.
func (s *scene) helperFor(ctx context.Context, st *stepState, name string, step int, exe string) (*helper, error) {
	h, err := s.startHelper(ctx, name, "portwatch-lab-step-"+strconv.Itoa(step), exe)
	if err != nil {
		return nil, err
	}
	st.helpers = append(st.helpers, h)
	s.pidMu.Lock()
	s.helpers = append(s.helpers, h)
	s.pidMu.Unlock()
	return h, nil
}

// helperPIDs is every helper process the scene started, for tests.
func (s *scene) helperPIDs() []int {
	s.pidMu.Lock()
	defer s.pidMu.Unlock()
	return append([]int(nil), s.pids...)
}
