package tui

import (
	"errors"
	"fmt"
	"strings"
	"syscall"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/assess"
	"github.com/portwatch/portwatch/tui/rowset"
)

// killGrace is how long processes get to exit after SIGTERM before
// portwatch says which still hold the port and offers SIGKILL.
const killGrace = 2 * time.Second

// The signals K sends: SIGTERM first, SIGKILL for what still holds the port.
const (
	sigTerm = syscall.SIGTERM
	sigKill = syscall.SIGKILL
)

// killDialog asks whether to end the processes that hold a socket. It names
// each exactly (pid and start time, with its command line), and a signal
// goes only to those, only from a key pressed while the dialog has the
// focus. It closes, saying so, when its socket closes or its owners change.
type killDialog struct {
	key     sockets.SocketKey
	socket  string            // "tcp4 0.0.0.0:80", for people
	targets []sockets.Process // copies: exactly the processes asked about
	master  int               // a target whose end ends the others (their parent), or -1
	sig     syscall.Signal
}

// killDialogFor is the dialog K opens on a row, or why there is none.
func killDialogFor(r *rowset.Row, selfPID int) (*killDialog, string) {
	if r == nil || r.Removed() {
		return nil, ""
	}
	s := &r.Socket
	if r.Published != nil { // a DNAT rule, not a socket: nothing a signal ends
		return nil, "no process to end: a DNAT rule publishes this port; the details say how to remove it"
	}
	if len(s.Owners) == 0 {
		return nil, "no process to end: " + assess.OwnerAbsence(s)
	}
	d := &killDialog{key: r.Key(), socket: s.ProtoLabel() + " " + s.LocalEndpoint(), master: -1, sig: sigTerm}
	for _, p := range s.Owners {
		switch {
		case p.PID == 1:
			return nil, "refused: pid 1, the init system, holds this socket (socket activation): stop the service with systemctl"
		case int(p.PID) == selfPID:
			return nil, "refused: that is portwatch itself"
		}
		d.targets = append(d.targets, *p)
	}
	d.master = masterOf(d.targets)
	return d, ""
}

// masterOf finds the target that is the parent of every other: ending a
// pre-fork server's master ends its workers.
func masterOf(ps []sockets.Process) int {
	if len(ps) < 2 {
		return -1
	}
	for i, m := range ps {
		all := true
		for j, p := range ps {
			all = all && (i == j || p.PPID == m.PID)
		}
		if all {
			return i
		}
	}
	return -1
}

// question is the one-line form, for the status line.
func (d *killDialog) question() string {
	verb := "End"
	if d.sig == sigKill {
		verb = "Still holding " + d.socket + ": force"
	}
	if len(d.targets) == 1 {
		p := d.targets[0]
		cmd := p.Cmdline
		if cmd == "" {
			cmd = p.Name
		}
		return fmt.Sprintf("%s pid %d (%s, user %s) with %s? y/n · %s", verb, p.PID, p.Name, p.User, signalName(d.sig), cmd)
	}
	return fmt.Sprintf("%s the %d processes holding %s with %s? y/n%s", verb, len(d.targets), d.socket, signalName(d.sig),
		map[bool]string{true: "/m (the master only)", false: ""}[d.master >= 0])
}

func signalName(s syscall.Signal) string {
	if s == sigKill {
		return "SIGKILL"
	}
	return "SIGTERM"
}

// renderKill is the dialog in full, where the details were: every process
// it would signal, with its whole command line, so nobody ends the wrong
// one.
func renderKill(th Theme, d *killDialog, w, h int) []string {
	title := fmt.Sprintf("Send %s to the process holding %s?", signalName(d.sig), d.socket)
	if len(d.targets) > 1 {
		title = fmt.Sprintf("Send %s to the %d processes holding %s?", signalName(d.sig), len(d.targets), d.socket)
	}
	lines := []string{th.Dialog.Render(title)}
	if d.sig == sigKill {
		lines = append(lines, hanging("", "", fmt.Sprintf("They still hold the port %s after SIGTERM. SIGKILL cannot be caught: the process gets no chance to clean up.", killGrace), w)...)
	}
	for i, p := range d.targets {
		role := ""
		if i == d.master {
			role = "  (master: ending it ends the others)"
		}
		lines = append(lines, fmt.Sprintf("  pid %d  %s  user %s%s", p.PID, p.Name, p.User, role))
		lines = append(lines, hanging("    command ", "            ", p.Cmdline, w)...)
	}
	keys := "y: send it to all"
	if len(d.targets) == 1 {
		keys = "y: send it"
	}
	if d.master >= 0 {
		keys += "    m: the master only"
	}
	lines = append(lines, "", keys+"    n or esc: cancel")
	return fitLines(lines, w, h)
}

// stillHeld lists the targets that still hold the dialog's socket, by pid
// and start time: a pid now used by another process does not count.
func stillHeld(store *rowset.Store, key sockets.SocketKey, targets []sockets.Process) []sockets.Process {
	r := store.Get(key)
	if r == nil || r.Removed() {
		return nil
	}
	var out []sockets.Process
	for _, t := range targets {
		for _, p := range r.Socket.Owners {
			if p.PID == t.PID && p.StartTicks == t.StartTicks {
				out = append(out, t)
				break
			}
		}
	}
	return out
}

// stale says why an open dialog no longer describes its socket, or "".
func (d *killDialog) stale(store *rowset.Store) string {
	r := store.Get(d.key)
	if r == nil || r.Removed() {
		return "the socket closed while the dialog was open: nothing was sent"
	}
	held := stillHeld(store, d.key, d.targets)
	if len(held) != len(d.targets) || (d.sig == sigTerm && len(r.Socket.Owners) != len(d.targets)) {
		return "the processes holding the socket changed: nothing was sent; press K to see them"
	}
	return ""
}

// signalCmd signals each target, in a command: Update does no I/O. Each
// signal is checked against the target's start time just before it is
// sent (Config.Signal), so a pid reused meanwhile is never hit.
func signalCmd(send func(p sockets.Process, sig syscall.Signal) error, d killDialog, targets []sockets.Process) tea.Cmd {
	return func() tea.Msg {
		msg := signalSentMsg{key: d.key, socket: d.socket, sig: d.sig, targets: targets}
		for _, t := range targets {
			msg.errs = append(msg.errs, send(t, d.sig))
		}
		return msg
	}
}

// report is the status line after the signals went, or failed.
func (msg signalSentMsg) report() string {
	var sent, failed []string
	for i, t := range msg.targets {
		err := msg.errs[i]
		switch {
		case err == nil:
			sent = append(sent, fmt.Sprintf("%d", t.PID))
		case errors.Is(err, syscall.EPERM):
			failed = append(failed, fmt.Sprintf("cannot end pid %d: permission denied (the process belongs to another user; run as root)", t.PID))
		case errors.Is(err, syscall.ESRCH):
			failed = append(failed, fmt.Sprintf("cannot end pid %d: it has already exited", t.PID))
		default:
			failed = append(failed, fmt.Sprintf("cannot end pid %d: %v", t.PID, err))
		}
	}
	var parts []string
	if len(sent) > 0 {
		name := ""
		if len(msg.targets) == 1 {
			name = " (" + msg.targets[0].Name + ")"
		}
		parts = append(parts, fmt.Sprintf("sent %s to pid %s%s", signalName(msg.sig), strings.Join(sent, ", "), name))
	}
	return strings.Join(append(parts, failed...), "; ")
}

// sentTo lists the targets the signal reached.
func (msg signalSentMsg) sentTo() []sockets.Process {
	var out []sockets.Process
	for i, t := range msg.targets {
		if msg.errs[i] == nil {
			out = append(out, t)
		}
	}
	return out
}
