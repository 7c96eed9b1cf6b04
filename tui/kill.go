package tui

import (
	"errors"
	"fmt"
	"syscall"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/assess"
	"github.com/portwatch/portwatch/tui/rowset"
)

// killGrace is how long a process gets to exit after SIGTERM before
// portwatch offers SIGKILL.
const killGrace = 2 * time.Second

// killTarget is a process the user asked to end, and the socket that led there.
type killTarget struct {
	pid     int
	name    string
	user    string
	cmdline string
	key     sockets.SocketKey // the socket, to see whether the port is still held
	sig     syscall.Signal
}

func (k *killTarget) question() string {
	cmd := k.cmdline
	if cmd == "" {
		cmd = k.name
	}
	verb := "End"
	if k.sig == syscall.SIGKILL {
		verb = "Still holding the port: force"
	}
	return fmt.Sprintf("%s pid %d (%s, user %s) with %s? y/n · %s", verb, k.pid, k.name, k.user, signalName(k.sig), cmd)
}

func signalName(s syscall.Signal) string {
	if s == syscall.SIGKILL {
		return "SIGKILL"
	}
	return "SIGTERM"
}

// killTargetOf is the process K would end for a row, or why there is none.
func killTargetOf(r *rowset.Row, selfPID int) (*killTarget, string) {
	if r == nil || r.Removed() {
		return nil, ""
	}
	p := r.Socket.Process()
	switch {
	case p == nil:
		return nil, "no process to end: " + assess.OwnerAbsence(&r.Socket)
	case p.PID == 1:
		return nil, "refused: pid 1 is the init system"
	case int(p.PID) == selfPID:
		return nil, "refused: that is portwatch itself"
	}
	return &killTarget{pid: int(p.PID), name: p.Name, user: p.User, cmdline: p.Cmdline, key: r.Key(), sig: syscall.SIGTERM}, ""
}

// signalCmd sends the target its signal, in a command: Update does no I/O.
func signalCmd(send func(pid int, sig syscall.Signal) error, target killTarget) tea.Cmd {
	return func() tea.Msg {
		return signalSentMsg{target: target, sig: target.sig, err: send(target.pid, target.sig)}
	}
}

// signalReport is the status line after a signal was sent, or failed.
func signalReport(msg signalSentMsg) string {
	if msg.err == nil {
		return fmt.Sprintf("sent %s to pid %d (%s)", signalName(msg.sig), msg.target.pid, msg.target.name)
	}
	reason := msg.err.Error()
	switch {
	case errors.Is(msg.err, syscall.EPERM):
		reason = "permission denied (the process belongs to another user; run as root)"
	case errors.Is(msg.err, syscall.ESRCH):
		reason = "it has already exited"
	}
	return fmt.Sprintf("cannot end pid %d: %s", msg.target.pid, reason)
}

// stillHolds reports whether the target's process still holds its socket.
func stillHolds(store *rowset.Store, k killTarget) bool {
	r := store.Get(k.key)
	if r == nil || r.Removed() {
		return false
	}
	for _, p := range r.Socket.Owners {
		if int(p.PID) == k.pid {
			return true
		}
	}
	return false
}

// renderConfirm is the kill confirmation in full, where the details were:
// what will be signalled, with its whole command line, so nobody ends the
// wrong process.
func renderConfirm(th Theme, k *killTarget, w, h int) []string {
	lines := []string{th.Dialog.Render(fmt.Sprintf("Send %s to this process?", signalName(k.sig)))}
	if k.sig == syscall.SIGKILL {
		lines = append(lines, "It still holds the port two seconds after SIGTERM. SIGKILL cannot be caught:")
		lines = append(lines, "the process gets no chance to clean up.")
	}
	lines = append(lines, fmt.Sprintf("  pid %d  %s  user %s", k.pid, k.name, k.user))
	lines = append(lines, hanging("  command  ", "           ", k.cmdline, w)...)
	lines = append(lines, "", "y: send it    n or esc: cancel")
	return fitLines(lines, w, h)
}

// The signals K sends: SIGTERM first, SIGKILL if the port is still held.
const (
	sigTerm = syscall.SIGTERM
	sigKill = syscall.SIGKILL
)
