package tui

import (
	"errors"
	"fmt"
	"syscall"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/portwatch/portwatch/sockets"
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

// askKill opens the confirmation for the selected socket's process.
func (m *Model) askKill() {
	if m.cfg.ReadOnly {
		m.setStatus("read-only: ending processes is disabled")
		return
	}
	t := m.current()
	if t == nil || t.removed() {
		return
	}
	p := t.sock.Process()
	switch {
	case p == nil:
		m.setStatus("no process to end: " + ownerAbsence(&t.sock))
		return
	case p.PID == 1:
		m.setStatus("refused: pid 1 is the init system")
		return
	case int(p.PID) == m.cfg.SelfPID:
		m.setStatus("refused: that is portwatch itself")
		return
	}
	m.confirm = &killTarget{pid: int(p.PID), name: p.Name, user: p.User, cmdline: p.Cmdline, key: t.key(), sig: syscall.SIGTERM}
	m.setKeysForConfirm(true)
}

func (m *Model) setKeysForConfirm(on bool) {
	m.keys.Confirm.SetEnabled(on)
	m.keys.Cancel.SetEnabled(on)
}

// confirmKey answers the confirmation: y sends the signal, anything else cancels.
func (m Model) confirmKey(msg tea.KeyMsg) (tea.Model, tea.Cmd) {
	target := *m.confirm
	m.confirm = nil
	m.setKeysForConfirm(false)
	if msg.String() != "y" && msg.String() != "Y" {
		m.setStatus("cancelled")
		return m, nil
	}
	signal := m.cfg.Signal
	return m, func() tea.Msg {
		return signalSentMsg{target: target, sig: target.sig, err: signal(target.pid, target.sig)}
	}
}

// signalSent reports the signal; after SIGTERM it checks again in two seconds.
func (m Model) signalSent(msg signalSentMsg) (tea.Model, tea.Cmd) {
	if msg.err != nil {
		reason := msg.err.Error()
		if errors.Is(msg.err, syscall.EPERM) {
			reason = "permission denied (the process belongs to another user; run as root)"
		} else if errors.Is(msg.err, syscall.ESRCH) {
			reason = "it has already exited"
		}
		m.setStatus(fmt.Sprintf("cannot end pid %d: %s", msg.target.pid, reason))
		return m, nil
	}
	m.setStatus(fmt.Sprintf("sent %s to pid %d (%s)", signalName(msg.sig), msg.target.pid, msg.target.name))
	if msg.sig != syscall.SIGTERM {
		return m, nil
	}
	target := msg.target
	return m, tea.Tick(killGrace, func(time.Time) tea.Msg { return killCheckMsg{target: target} })
}

// killCheck offers SIGKILL if the process still holds the socket.
func (m Model) killCheck(msg killCheckMsg) (tea.Model, tea.Cmd) {
	t, ok := m.entries[msg.target.key]
	if !ok || t.removed() || m.confirm != nil {
		return m, nil
	}
	for _, p := range t.sock.Owners {
		if int(p.PID) == msg.target.pid {
			target := msg.target
			target.sig = syscall.SIGKILL
			m.confirm = &target
			m.setKeysForConfirm(true)
			return m, nil
		}
	}
	return m, nil
}

// viewConfirm is the kill confirmation in full: what will be signalled,
// with its whole command line, so nobody ends the wrong process.
func (m *Model) viewConfirm(w, h int) []string {
	k := m.confirm
	lines := []string{m.theme.Dialog.Render(fmt.Sprintf("Send %s to this process?", signalName(k.sig)))}
	if k.sig == syscall.SIGKILL {
		lines = append(lines, "It still holds the port two seconds after SIGTERM. SIGKILL cannot be caught:")
		lines = append(lines, "the process gets no chance to clean up.")
	}
	lines = append(lines, fmt.Sprintf("  pid %d  %s  user %s", k.pid, k.name, k.user))
	for i, l := range wrap(k.cmdline, max(w-11, 10)) {
		prefix := "           "
		if i == 0 {
			prefix = "  command  "
		}
		lines = append(lines, prefix+l)
	}
	lines = append(lines, "", "y: send it    n or esc: cancel")
	return fitLines(lines, w, h)
}
