//go:build linux

package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"syscall"

	"github.com/portwatch/portwatch/sockets/lab"
	"github.com/spf13/cobra"
)

// labMonitor starts the monitor on a lab's scene and returns when the
// monitor ends: it shows the scene's narration and steps through it
// (scene.Go in a command, never on the UI goroutine). runLab is handed one
// (monitorOnScene; a test's), and closes the scene whatever it returns.
type labMonitor func(scene lab.Scene, cfg labConfig) error

// labChildArgs is the command line the lab's namespace process runs: this
// one again, so that it parses the same flags. A test replaces it.
var labChildArgs = func() []string { return os.Args[1:] }

// labConfig is portwatch lab's command line.
type labConfig struct {
	noNetns bool // --no-netns
	all     bool // --whole-machine: every socket of the machine, not only the lab's
}

// newLabCommand is portwatch lab: a guided scene of real sockets for a
// class, shown in the monitor that monitor starts.
func newLabCommand(monitor labMonitor) *cobra.Command {
	var cfg labConfig
	cmd := &cobra.Command{
		Use:   "lab",
		Short: "a guided scene of real sockets for a class",
		Long: `Ten steps, each making something real happen (a server listens, a client
connects and closes, CLOSE_WAIT piles up, a firewall rule turns a listener
open, filtered and closed, loopback against all interfaces, a backdoor,
cleartext against TLS, a scan, a server's profile), shown in the monitor with
a narration: n or space for the next step, b to go back, q to quit. The lab
compares with a baseline of its own: only the backdoor is unexpected. It runs
in a network namespace of its own (without root, inside a user namespace of
its own, where the kernel allows them); else on a block of free loopback
ports, where the firewall step and the server profile cannot be shown. Either
way a class can run many labs at once, each showing its own scene. q, Ctrl+C or a crash leave no socket, process or namespace behind.`,
		Args: flagsOnly,
		RunE: func(*cobra.Command, []string) error { return runLab(cfg, monitor) },
	}
	fs := cmd.Flags()
	fs.SortFlags = false
	fs.BoolVar(&cfg.noNetns, "no-netns", false,
		"run the lab on this machine's loopback (high ports, no firewall rule) instead of a network namespace of its own")
	fs.BoolVar(&cfg.all, "whole-machine", false,
		"show every socket the monitor can see, not only the lab's own (by default each lab of a class shows its own scene)")
	addHelpFlag(fs)
	return cmd
}

// Where the lab runs.
const (
	labHere      = "here"      // in this process: on loopback, or already in the lab's namespace
	labNamespace = "namespace" // in this program run again in a new network namespace
)

// labPlace decides where the lab runs: in a namespace of its own unless
// --no-netns says otherwise (root's alone; another user's inside a user
// namespace of their own, lab.NamespaceCommand); the process
// runLabInNamespace started is already there. euid no longer decides: a
// user without root gets the same lab where the kernel allows user
// namespaces, and loopback where it does not.
func labPlace(cfg labConfig, euid int, inNamespace bool) string {
	if !cfg.noNetns && !inNamespace {
		return labNamespace
	}
	return labHere
}

// runLab is portwatch lab. As root it runs itself again in a network
// namespace of its own and waits; that process (or this one, without root
// or with --no-netns) builds the scene and starts the monitor on it.
// SIGINT and SIGTERM close the scene (the monitor quits on them too), and
// the scene is closed when the monitor returns, whatever happened.
func runLab(cfg labConfig, monitor labMonitor) error {
	var opts lab.Options
	if cfg.noNetns {
		opts.NoNamespace = "--no-netns"
	}
	if labPlace(cfg, os.Geteuid(), lab.InNamespace()) == labNamespace {
		err := runLabInNamespace()
		var refused errNoNamespace
		if !errors.As(err, &refused) {
			return err
		}
		fmt.Fprintf(os.Stderr, "portwatch: %v; the lab runs on this machine's loopback instead\n", err)
		opts.NoNamespace = refused.err.Error()
	}
	if monitor == nil {
		return errors.New("this build of portwatch has no monitor for the lab")
	}
	scene, err := lab.New(opts)
	if errors.Is(err, lab.ErrUserNamespacePowerless) {
		// The parent runs the lab on loopback instead; it says why.
		return errLabExit{labPowerlessExit}
	}
	if err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	defer scene.Close()
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-sigs:
			scene.Close()
		case <-done:
		}
	}()
	err = monitor(scene, cfg)
	if cerr := scene.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("closing the lab: %w", cerr)
	}
	return err
}

// errLabExit is the failure of the lab's namespace process. It has said
// why on stderr already: portwatch should exit with its code and add
// nothing.
type errLabExit struct{ code int }

func (e errLabExit) Error() string { return fmt.Sprintf("the lab ended with exit status %d", e.code) }

// labPowerlessExit is the namespace process's exit status when its user
// namespace gave it no power over its network (lab.ErrUserNamespacePowerless):
// a word between the two processes, which runs the lab on loopback.
const labPowerlessExit = 4

// errNoNamespace: the kernel would not make a network namespace (a
// container without CAP_SYS_ADMIN, user namespaces off or powerless); the
// lab can still run on loopback.
type errNoNamespace struct{ err error }

func (e errNoNamespace) Error() string {
	return fmt.Sprintf("cannot make a network namespace for the lab (%v)", e.err)
}

// runLabInNamespace runs this program again in a new network namespace
// (lab.NamespaceCommand) on the same terminal and waits for it. The
// namespace is anonymous: it ends with its last process, so nothing is
// left to delete, after a crash either. The child dies with this process
// (Pdeathsig, kill -9 included), its helpers with it, and the namespace
// with them. Signals sent to this process are passed on; a ^C is a key to
// the monitor, in raw mode, not a signal.
func runLabInNamespace() error {
	cmd, err := lab.NamespaceCommand(labChildArgs()...)
	if err != nil {
		return err
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)
	// The child's Pdeathsig follows the thread that starts it: this
	// goroutine keeps that thread until the child has ended.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := cmd.Start(); err != nil {
		if lab.IsRefused(err) {
			return errNoNamespace{err}
		}
		return fmt.Errorf("starting the lab in its own network namespace: %w", err)
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	for {
		select {
		case sig := <-sigs:
			cmd.Process.Signal(sig)
		case err := <-waited:
			var exit *exec.ExitError
			if errors.As(err, &exit) {
				code := exit.ExitCode()
				if code < 0 { // killed by a signal
					code = 1
				}
				if code == labPowerlessExit {
					return errNoNamespace{lab.ErrUserNamespacePowerless}
				}
				return errLabExit{code}
			}
			return err
		}
	}
}
