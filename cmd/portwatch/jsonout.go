package main

import (
	"encoding/json"
	"io"
	"time"

	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/assess"
)

// The JSON form of a snapshot is a stable interface for jq and scripts:
// fields are only ever added, every key is lower-case snake_case. Flat
// pid/process/user name the first owner; owners lists them all. Service,
// risk and findings come from the same assessment the monitor shows.

type jsonDoc struct {
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
	Proto         sockets.Proto       `json:"proto"`
	Family        int                 `json:"family"`
	LocalAddress  string              `json:"local_address"`
	LocalPort     uint16              `json:"local_port"`
	RemoteAddress string              `json:"remote_address"`
	RemotePort    uint16              `json:"remote_port"`
	State         string              `json:"state"`
	Kind          string              `json:"kind"`
	Direction     sockets.Direction   `json:"direction,omitempty"`
	Exposure      sockets.Exposure    `json:"exposure,omitempty"`
	DualStack     bool                `json:"dual_stack"`
	Inode         uint64              `json:"inode"`
	UID           uint32              `json:"uid"`
	PID           int32               `json:"pid"`
	Process       string              `json:"process"`
	User          string              `json:"user"`
	OwnerStatus   sockets.OwnerStatus `json:"owner_status"`
	Owners        []jsonProcess       `json:"owners"`
	Netns         string              `json:"netns"`
	Service       jsonService         `json:"service"`
	Risk          assess.Risk         `json:"risk"`
	Connections   *int32              `json:"connections,omitempty"` // listeners only
	Findings      []assess.Finding    `json:"findings"`
}

type jsonProcess struct {
	PID        int32  `json:"pid"`
	PPID       int32  `json:"ppid"`
	Name       string `json:"name"`
	Exe        string `json:"exe"`
	ExeDeleted bool   `json:"exe_deleted"`
	Cmdline    string `json:"cmdline"`
	User       string `json:"user"`
	UID        int32  `json:"uid"`
	Started    string `json:"started,omitempty"`
	Unit       string `json:"unit,omitempty"`
}

type jsonService struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Source      string `json:"source"`
	Program     string `json:"program,omitempty"` // the program that identified it
}

// writeJSON prints a snapshot and its assessment, keeping the sockets keep
// says to (all of them for a nil keep).
func writeJSON(w io.Writer, snap *sockets.Snapshot, a *assess.Assessment, keep func(*sockets.Socket) bool) error {
	out := jsonDoc{
		Taken:        snap.Taken.Format(time.RFC3339Nano),
		TookMS:       float64(snap.Took.Microseconds()) / 1000,
		Root:         snap.Root,
		Method:       snap.Method,
		HiddenOwners: snap.Hidden,
		HiddenReason: a.HiddenReason(),
		NetnsSkipped: snap.NetnsSkipped,
		NetnsReason:  a.NetnsReason(),
		Sockets:      []jsonSocket{},
	}
	for _, v := range a.Verdicts {
		if keep == nil || keep(&v.Socket) {
			out.Sockets = append(out.Sockets, toJSONSocket(v))
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func toJSONSocket(v *assess.Verdict) jsonSocket {
	s := &v.Socket
	j := jsonSocket{
		Proto: s.Proto, Family: s.Family,
		LocalAddress: s.Local.String(), LocalPort: s.LPort,
		RemoteAddress: s.Remote.String(), RemotePort: s.RPort,
		State: s.State, Kind: s.Kind().String(), Direction: s.Direction,
		DualStack: s.DualStack, Inode: s.Inode, UID: s.UID,
		OwnerStatus: s.OwnerStatus, Owners: []jsonProcess{}, Netns: s.Netns,
		Service: jsonService{Name: v.Service.Name, Description: v.Service.Description,
			Source: string(v.Service.Source), Program: v.Service.Program},
		Risk:     v.Risk,
		Findings: v.Findings,
	}
	if j.Findings == nil {
		j.Findings = []assess.Finding{}
	}
	if s.IsListening() {
		j.Exposure = s.Exposure()
		conns := v.Conns
		j.Connections = &conns
	}
	for _, p := range s.Owners {
		jp := jsonProcess{PID: p.PID, PPID: p.PPID, Name: p.Name, Exe: p.Exe, ExeDeleted: p.ExeDeleted,
			Cmdline: p.Cmdline, User: p.User, UID: p.UID, Unit: p.Unit}
		if !p.Started.IsZero() {
			jp.Started = p.Started.UTC().Format(time.RFC3339)
		}
		j.Owners = append(j.Owners, jp)
	}
	if p := s.Process(); p != nil {
		j.PID, j.Process, j.User = p.PID, p.Name, p.User
	}
	return j
}
