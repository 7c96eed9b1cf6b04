//go:build linux

package main

import (
	"encoding/json"
	"io"
	"time"

	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/assess"
	"github.com/portwatch/portwatch/sockets/baseline"
	"github.com/portwatch/portwatch/sockets/poll"
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
	Baseline     *jsonBase    `json:"baseline,omitempty"` // with a baseline only
	Profile      jsonProfile  `json:"profile"`
	Sockets      []jsonSocket `json:"sockets"`
	// Published lists the ports the namespaces' rules publish (DNAT), with
	// their verdicts, whether or not a socket backs them.
	Published []jsonPublished `json:"published"`
}

// jsonProfile is the server profile: the machine's roles from its
// listeners, and what stands out of them (assess.Profile).
type jsonProfile struct {
	Summary   string              `json:"summary"`
	Roles     []assess.ServerRole `json:"roles"`
	Standouts []assess.Standout   `json:"standouts"`
}

// jsonBase is the baseline the listeners were compared with, and its
// entries that no listener answers. A missing entry's fields are the file's
// words: address all, loopback, * or an IP; port 22, 32768-60999 or *.
type jsonBase struct {
	Path    string        `json:"path"`
	Missing []jsonMissing `json:"missing"`
}

type jsonMissing struct {
	Netns   string `json:"netns"`
	Proto   string `json:"proto"`
	Address string `json:"address"`
	Port    string `json:"port"`
	Program string `json:"program"`
	User    string `json:"user"`
	Line    int    `json:"line"`
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
	Role          assess.Role         `json:"role"`                  // listener, client-socket or connection
	Remedy        string              `json:"remedy,omitempty"`      // the worst finding's remedy, where one has one
	Connections   *int32              `json:"connections,omitempty"` // listeners only
	Baseline      string              `json:"baseline,omitempty"`    // listeners, with a baseline only
	Firewall      *jsonFirewall       `json:"firewall,omitempty"`    // listeners whose namespace's ruleset was read
	// PublishedAs lists the published ports (DNAT) that reach this listener:
	// "0.0.0.0:8080", the publishing namespace first when not its own.
	PublishedAs []string `json:"published_as,omitempty"`
	// The kernel's counters of a TCP connection (tcp_info); left out for
	// UDP and listeners, which have none: nothing, not zero.
	BytesSent     *uint64          `json:"bytes_sent,omitempty"`
	BytesReceived *uint64          `json:"bytes_received,omitempty"`
	RTTMS         *float64         `json:"rtt_ms,omitempty"`
	Retransmits   *uint32          `json:"retransmits,omitempty"`
	Findings      []assess.Finding `json:"findings"`
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
	// Identity is what the executable was proven to be: the package that
	// installed it (and its version), or why that is unproven.
	Identity *jsonIdentity `json:"identity,omitempty"`
}

type jsonIdentity struct {
	Proof   sockets.Proof `json:"proof"`
	Manager string        `json:"manager,omitempty"`
	Package string        `json:"package,omitempty"`
	Version string        `json:"version,omitempty"`
	Reason  string        `json:"reason"`
}

type jsonService struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Source      string `json:"source"`
	Program     string `json:"program,omitempty"` // the program that identified it
	// Note is what portwatch says of the service for an analyst: what it
	// risks and what to do about it (the detail pane's note).
	Note string `json:"note"`
}

// writeJSON prints a snapshot and its assessment, keeping the sockets keep
// says to (all of them for a nil keep).
func writeJSON(w io.Writer, r *poll.Result, keep func(*sockets.Socket) bool) error {
	snap, a := r.Snapshot, r.Assessment
	out := jsonDoc{
		Taken:        snap.Taken.Format(time.RFC3339Nano),
		TookMS:       float64(r.Took.Microseconds()) / 1000, // reading, the firewalls and judging: everything
		Root:         snap.Root,
		Method:       snap.Method,
		HiddenOwners: snap.Hidden,
		HiddenReason: a.HiddenReason(),
		NetnsSkipped: snap.NetnsSkipped,
		NetnsReason:  a.NetnsReason(),
		Profile:      jsonProfile{Summary: a.Profile.Summary(), Roles: a.Profile.Roles, Standouts: a.Profile.Standouts},
		Sockets:      []jsonSocket{},
	}
	if b := a.Baseline; b != nil {
		out.Baseline = &jsonBase{Path: b.Path, Missing: []jsonMissing{}}
		for _, v := range a.Missing {
			e := v.Baseline.Entry
			out.Baseline.Missing = append(out.Baseline.Missing, jsonMissing{Netns: e.Netns, Proto: e.ProtoWord(),
				Address: e.Address, Port: entryPort(e), Program: e.Program, User: e.User, Line: e.Line})
		}
	}
	for _, v := range a.Verdicts {
		if keep == nil || keep(&v.Socket) {
			j := toJSONSocket(v)
			if v.Socket.IsListening() {
				j.PublishedAs = sockets.PublishedAs(snap.Published, &v.Socket)
			}
			out.Sockets = append(out.Sockets, j)
		}
	}
	out.Published = toJSONPublished(snap.Published)
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
			Source: string(v.Service.Source), Program: v.Service.Program, Note: v.Service.Note},
		Risk:     v.Risk,
		Role:     v.Role,
		Findings: v.Findings,
	}
	if j.Findings == nil {
		j.Findings = []assess.Finding{}
	}
	for _, f := range v.Findings {
		if f.Remedy != "" {
			j.Remedy = f.Remedy
			break
		}
	}
	if t := s.Traffic; t != nil && s.Proto == sockets.TCP && !s.IsListening() {
		rtt := float64(t.RTT) / 1000
		j.BytesSent, j.BytesReceived, j.RTTMS, j.Retransmits = &t.BytesSent, &t.BytesReceived, &rtt, &t.Retransmits
	}
	if s.IsListening() {
		if fw := v.Firewall(); fw.Kind != "" {
			j.Firewall = toJSONFirewall(fw)
		}
		if st := v.Baseline.Status; st != baseline.NotCompared {
			b, _ := st.MarshalText() // expected, unexpected or changed
			j.Baseline = string(b)
		}
		j.Exposure = s.Exposure()
		conns := v.Conns
		j.Connections = &conns
	}
	for _, p := range s.Owners {
		jp := jsonProcess{PID: p.PID, PPID: p.PPID, Name: p.Name, Exe: p.Exe, ExeDeleted: p.ExeDeleted,
			Cmdline: p.Cmdline, User: p.User, UID: p.UID, Unit: p.Unit}
		if id := p.Identity; id != nil {
			jp.Identity = &jsonIdentity{Proof: id.Proof, Manager: id.Manager, Package: id.Package, Version: id.Version, Reason: id.Reason}
		}
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
