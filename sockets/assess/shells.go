package assess

import (
	"fmt"
	"strings"

	"github.com/portwatch/portwatch/sockets"
)

// shellFindings judges the programs on a connection: a shell or
// interpreter whose standard input or output is the socket (a reverse
// shell, or a bind shell's session), a shell that opened a connection of
// its own (bash's /dev/tcp), and forwarders relaying it (socat, netcat, ssh
// -L/-R/-D): a pivot. Listeners are judged by identityFindings.
func shellFindings(s *sockets.Socket, f *findings) {
	if s.Inode == 0 {
		return
	}
	for _, p := range s.Owners {
		name := exeName(p)
		fds := p.StdioOn(s.Inode)
		// An interpreter is a shell here unless it runs a script of a
		// packaged service (a socket-activated Python daemon reads its
		// connection as stdin by design).
		shell := shells[name] || isInterpreter(name) && !serviceScript(p)
		switch {
		case len(fds) > 0 && shell && !s.IsListening():
			what := "a reverse shell"
			if s.Direction == sockets.Inbound {
				what = "a bind shell's session"
			}
			f.add(RiskHigh, CodeReverseShell, "%s (pid %d) is a shell whose %s this connection (descriptor%s %s): %s. Whoever is at %s types its commands.",
				name, p.PID, stdioWords(fds), plural(len(fds)), fdList(fds), what, s.RemoteEndpoint())
		case len(fds) > 0 && s.IsListening():
			f.add(RiskInfo, CodeSocketStdio, "%s (pid %d) was handed this listener as its standard input, the way inetd and socket-activated services start.", name, p.PID)
		case len(fds) > 0:
			f.add(RiskLow, CodeSocketStdio, "%s (pid %d) reads and writes this connection as its standard input and output, the way inetd and per-connection socket-activated services run.", name, p.PID)
		case shells[name] && !s.IsListening() && s.State == sockets.StateEstablished:
			f.add(RiskHigh, CodeShellConnection, "%s (pid %d), a shell, holds an established connection to %s itself (bash's /dev/tcp, or a descriptor handed down): shells do not talk to the network; this is how a reverse shell starts.", name, p.PID, s.RemoteEndpoint())
		}
		if !s.IsListening() && s.State == sockets.StateEstablished {
			pivotFinding(s, p, f)
		}
	}
}

// pivotFinding names a forwarder relaying this connection.
func pivotFinding(s *sockets.Socket, p *sockets.Process, f *findings) {
	name := exeName(p)
	switch {
	case f.t.execWords(p) != "":
		return // said already: it hands the socket to a program
	case netcats[name]:
		f.add(RiskMedium, CodePivot, "%s (pid %d) relays this connection to %s: a pivot or tunnel through this machine, or a file carried by hand. %s", name, p.PID, s.RemoteEndpoint(), p.Cmdline)
	case name == "ssh":
		args := " " + p.Cmdline + " "
		switch {
		case strings.Contains(args, " -R"):
			f.add(RiskMedium, CodePivot, "ssh (pid %d) holds a reverse tunnel (-R): the far side (%s) reaches into this machine or its network through it. %s", p.PID, s.RemoteEndpoint(), p.Cmdline)
		case strings.Contains(args, " -L") || strings.Contains(args, " -D"):
			f.add(RiskLow, CodePivot, "ssh (pid %d) forwards ports through this connection (-L or -D): a tunnel to %s's side. %s", p.PID, s.RemoteEndpoint(), p.Cmdline)
		}
	}
}

func stdioWords(fds []int) string {
	in, out := false, false
	for _, fd := range fds {
		in = in || fd == 0
		out = out || fd > 0
	}
	switch {
	case in && out:
		return "input and output are"
	case in:
		return "input is"
	}
	return "output is"
}

func fdList(fds []int) string {
	words := make([]string, len(fds))
	for i, fd := range fds {
		words[i] = fmt.Sprint(fd)
	}
	if len(words) > 1 {
		return strings.Join(words[:len(words)-1], ", ") + " and " + words[len(words)-1]
	}
	return words[0]
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// serviceScript: an interpreter running a script file (not inline code)
// as a systemd service, from a proven file.
func serviceScript(p *sockets.Process) bool {
	if _, _, inline := inlineCode(p); inline {
		return false
	}
	return p.Identity.Proven() && strings.HasSuffix(p.Unit, ".service") && !strings.HasPrefix(p.Unit, "user@") && len(strings.Fields(p.Cmdline)) > 1
}
