package sockets

import (
	"encoding/json"
	"time"
)

// The JSON form of a snapshot is a stable interface for jq and scripts:
// fields are only ever added. Flat pid/process/user name the first owner;
// owners lists them all.

type jsonSnapshot struct {
	Taken        string       `json:"taken"`
	TookMS       float64      `json:"took_ms"`
	Root         bool         `json:"root"`
	Method       string       `json:"method"`
	HiddenOwners int          `json:"hidden_owners"`
	HiddenReason string       `json:"hidden_reason,omitempty"`
	NetnsSkipped int          `json:"netns_skipped"`
	NetnsReason  string       `json:"netns_reason,omitempty"`
	Sockets      []jsonSocket `json:"sockets"`
}

type jsonSocket struct {
	Proto         Proto       `json:"proto"`
	Family        int         `json:"family"`
	LocalAddress  string      `json:"local_address"`
	LocalPort     uint16      `json:"local_port"`
	RemoteAddress string      `json:"remote_address"`
	RemotePort    uint16      `json:"remote_port"`
	State         string      `json:"state"`
	Kind          string      `json:"kind"`
	Direction     Direction   `json:"direction,omitempty"`
	Exposure      Exposure    `json:"exposure,omitempty"`
	DualStack     bool        `json:"dual_stack"`
	Inode         uint64      `json:"inode"`
	UID           uint32      `json:"uid"`
	PID           int32       `json:"pid"`
	Process       string      `json:"process"`
	User          string      `json:"user"`
	OwnerStatus   OwnerStatus `json:"owner_status"`
	Owners        []*Process  `json:"owners"`
	Netns         string      `json:"netns"`
}

// MarshalJSON writes the snapshot in portwatch's documented JSON format.
func (s *Snapshot) MarshalJSON() ([]byte, error) {
	out := jsonSnapshot{
		Taken:        s.Taken.Format(time.RFC3339Nano),
		TookMS:       float64(s.Took.Microseconds()) / 1000,
		Root:         s.Root,
		Method:       s.Method,
		HiddenOwners: s.Hidden,
		HiddenReason: s.HideNote,
		NetnsSkipped: s.NetnsSkipped,
		NetnsReason:  s.NetnsNote,
		Sockets:      make([]jsonSocket, 0, len(s.Sockets)),
	}
	for i := range s.Sockets {
		out.Sockets = append(out.Sockets, toJSONSocket(&s.Sockets[i]))
	}
	return json.Marshal(out)
}

func toJSONSocket(s *Socket) jsonSocket {
	j := jsonSocket{
		Proto: s.Proto, Family: s.Family,
		LocalAddress: s.Local.String(), LocalPort: s.LPort,
		RemoteAddress: s.Remote.String(), RemotePort: s.RPort,
		State: s.State, Kind: s.Kind().String(), Direction: s.Direction,
		DualStack: s.DualStack, Inode: s.Inode, UID: s.UID,
		OwnerStatus: s.OwnerStatus, Owners: s.Owners, Netns: s.Netns,
	}
	if s.IsListening() {
		j.Exposure = s.Exposure()
	}
	if j.Owners == nil {
		j.Owners = []*Process{}
	}
	if p := s.Process(); p != nil {
		j.PID, j.Process, j.User = p.PID, p.Name, p.User
	}
	return j
}
