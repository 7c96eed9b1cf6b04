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
	case OwnerUnreadable:
		return "(unreadable)"
	case OwnerGone:
		return "(gone)"
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

// String names the unreadable processes and why, briefly: "pid 1
// (permission denied)" for a few, and for many a count per reason with the
// first pids: "212 processes (permission denied): pids 1, 2, 5, 8, 13 and
// 207 more".
func (u *UnreadableOwners) String() string {
	if u == nil || len(u.Processes) == 0 {
		return "no process"
	}
	if len(u.Processes) <= 3 {
		parts := make([]string, len(u.Processes))
		for i, p := range u.Processes {
			parts[i] = "pid " + strconv.Itoa(int(p.PID)) + " (" + p.Reason + ")"
		}
		return strings.Join(parts, ", ")
	}
	var reasons []string
	pidsOf := map[string][]string{}
	for _, p := range u.Processes {
		if _, ok := pidsOf[p.Reason]; !ok {
			reasons = append(reasons, p.Reason)
		}
		pidsOf[p.Reason] = append(pidsOf[p.Reason], strconv.Itoa(int(p.PID)))
	}
	const shown = 5
	groups := make([]string, len(reasons))
	for i, r := range reasons {
		pids := pidsOf[r]
		switch {
		case len(pids) == 1:
			groups[i] = "1 process (" + r + "): pid " + pids[0]
		case len(pids) <= shown:
			groups[i] = strconv.Itoa(len(pids)) + " processes (" + r + "): pids " + strings.Join(pids, ", ")
		default:
			groups[i] = strconv.Itoa(len(pids)) + " processes (" + r + "): pids " + strings.Join(pids[:shown], ", ") +
				" and " + strconv.Itoa(len(pids)-shown) + " more"
		}
	}
	return strings.Join(groups, "; ")
}
