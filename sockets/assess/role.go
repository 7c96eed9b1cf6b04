package assess

import (
	"strings"

	"github.com/portwatch/portwatch/sockets"
)

// Role is what a socket is for, in one word: part of the JSON interface.
type Role string

// The roles of a socket.
const (
	RoleListener Role = "listener" // a service: a TCP listener, a bound UDP socket
	// RoleClientSocket is an unconnected UDP socket on an ephemeral port
	// held by a recognised daemon: where its own queries (DNS, RADIUS,
	// a proxy's upstream) send from and their answers come back, not a
	// service it offers.
	RoleClientSocket Role = "client-socket"
	RoleConnection   Role = "connection" // a TCP connection, a connected UDP socket, a remnant
)

// roleOf decides a socket's role.
func (k *Knowledge) roleOf(s *sockets.Socket) Role {
	if !s.IsListening() {
		return RoleConnection
	}
	if s.Proto == sockets.UDP && s.State == sockets.StateUnconnected && k.Ephemeral.Contains(s.LPort) && recognisedDaemon(s) {
		return RoleClientSocket
	}
	return RoleListener
}

// recognisedDaemon: the socket's owner is a server program of the catalog,
// or a packaged program (its file proven by the package database) that
// systemd runs as a service; never a shell, a netcat or an interpreter
// running inline code.
func recognisedDaemon(s *sockets.Socket) bool {
	if len(s.Owners) == 0 {
		return false
	}
	for _, p := range s.Owners {
		name := exeName(p)
		if shells[name] || netcats[name] || backdoorTools[name] || p.Identity.Disproven() || kernelName(p) {
			return false
		}
		if _, _, inline := inlineCode(p); inline {
			return false
		}
	}
	if prog, _ := programOf(s); prog != nil {
		return !prog.dynamic
	}
	p := s.Owners[0]
	id := p.Identity
	return id != nil && (id.Proof == sockets.ProofPackage || id.Proof == sockets.ProofListed) &&
		strings.HasSuffix(p.Unit, ".service") && !strings.HasPrefix(p.Unit, "user@")
}
