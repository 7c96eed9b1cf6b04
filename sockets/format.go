package sockets

import (
	"strconv"
	"strings"
)

// ProtoLabel is "tcp4", "tcp6", "udp4", "udp6", or "tcp46"/"udp46" for a
// dual-stack listener, as BSD netstat writes it.
func (s *Socket) ProtoLabel() string {
	if s.DualStack {
		return s.Proto.String() + "46"
	}
	return s.Proto.String() + strconv.Itoa(s.Family)
}

// OwnerPIDs is the owners' pids joined by commas, or a dash.
func (s *Socket) OwnerPIDs() string {
	if len(s.Owners) == 0 {
		return "-"
	}
	pids := make([]string, len(s.Owners))
	for i, p := range s.Owners {
		pids[i] = strconv.Itoa(int(p.PID))
	}
	return strings.Join(pids, ",")
}

// OwnerName is the first owner's name, or why there is none.
func (s *Socket) OwnerName() string {
	if p := s.Process(); p != nil {
		return p.Name
	}
	switch s.OwnerStatus {
	case OwnerHidden:
		return "(hidden)"
	case OwnerOutside:
		return "(outside)"
	}
	return "-"
}

// OwnerUser is the first owner's user; without one, the socket's user (or
// uid, when it has no name).
func (s *Socket) OwnerUser() string {
	if p := s.Process(); p != nil && p.User != "" {
		return p.User
	}
	switch {
	case s.OwnerStatus == OwnerNone:
		return "-"
	case s.User != "":
		return s.User
	}
	return "uid " + strconv.Itoa(int(s.UID))
}
