//go:build linux

package main

import (
	"encoding/json"
	"net/netip"
	"os"
	"time"

	"github.com/portwatch/portwatch/sockets/assess"
	"github.com/portwatch/portwatch/sockets/clean"
	"github.com/portwatch/portwatch/sockets/events"
)

// ecsVersion is the Elastic Common Schema version the lines conform to.
// Every field written here is defined, with the same meaning and type, in
// ECS 8.x and 9.x.
const ecsVersion = "8.11.0"

// ecsLine is one event in Elastic Common Schema, as --log-format ecs
// writes it: nested objects, which Elasticsearch, Filebeat's ndjson parser
// and most SIEMs read as the dotted field names of the README's table
// (event.kind, server.port, ...). Its field order is the line's.
type ecsLine struct {
	Timestamp string       `json:"@timestamp"`
	Message   string       `json:"message"`
	ECS       ecsVersionF  `json:"ecs"`
	Event     ecsEvent     `json:"event"`
	Rule      *ecsRule     `json:"rule,omitempty"`
	Server    ecsServer    `json:"server"`
	Network   ecsNetwork   `json:"network"`
	Process   *ecsProcess  `json:"process,omitempty"`
	User      *ecsUser     `json:"user,omitempty"`
	Observer  ecsObserver  `json:"observer"`
	Labels    ecsNetnsOnly `json:"labels"`
}

type ecsVersionF struct {
	Version string `json:"version"`
}

type ecsEvent struct {
	Kind      string   `json:"kind"`     // alert: the baseline or a finding says so; event: what merely happened
	Category  []string `json:"category"` // always network
	Type      []string `json:"type"`     // start, end or info: the values ECS allows with network
	Action    string   `json:"action"`   // portwatch's kind of event, unchanged
	Severity  int      `json:"severity"`
	RiskScore float64  `json:"risk_score"`
	Module    string   `json:"module"`
	Dataset   string   `json:"dataset"`
}

type ecsRule struct {
	ID []string `json:"id"` // the finding codes: an array, as every ECS field may be
}

// ecsServer is the listening side: every portwatch event is about a
// listener or a connection of this machine's, at its local address.
type ecsServer struct {
	Address string `json:"address"`
	IP      string `json:"ip,omitempty"` // when the address is one (a baseline's word such as loopback is not)
	Port    uint16 `json:"port"`
}

type ecsNetwork struct {
	Transport string `json:"transport,omitempty"` // tcp or udp; none for a baseline line of protocol *
	Type      string `json:"type,omitempty"`      // ipv4 or ipv6, when the address is one
}

type ecsProcess struct {
	PID        int32  `json:"pid,omitempty"`
	Name       string `json:"name,omitempty"`
	Executable string `json:"executable,omitempty"`
}

type ecsUser struct {
	Name string `json:"name"`
}

type ecsObserver struct {
	Hostname string `json:"hostname,omitempty"`
	Product  string `json:"product"`
	Version  string `json:"version"`
}

// ecsNetnsOnly is ECS's labels: keywords of the source's own, here the
// network namespace, for which ECS has no field.
type ecsNetnsOnly struct {
	Netns string `json:"netns"`
}

// ecsEncoder turns events into ECS lines; what is the same for every line
// (the host, portwatch's version) is read once.
type ecsEncoder struct {
	hostname, version string
}

func newECSEncoder(hostname string) *ecsEncoder {
	return &ecsEncoder{hostname: hostname, version: readBuildStamp().version}
}

// observerHostname is this machine's name, cleaned as anything read from
// the machine is (a hostname is whatever root set).
func observerHostname() string {
	h, err := os.Hostname()
	if err != nil {
		return ""
	}
	return clean.Cut(clean.Text(h), 255)
}

// The kinds that are a detection: the baseline's word, or a finding.
var ecsAlerts = map[events.Kind]bool{
	events.Unexpected: true, events.Changed: true, events.Missing: true, events.Finding: true,
}

// ecsSeverity is event.severity, a number that grows with the risk (ECS
// leaves the scale to the source): INFO 1, LOW 2, MEDIUM 3, HIGH 4.
func ecsSeverity(r assess.Risk) int { return int(r) + 1 }

// ecsRiskScore is event.risk_score on the 0-100 scale of Elastic's
// detection rules, whose low, medium and high default to 21, 47 and 73.
func ecsRiskScore(r assess.Risk) float64 {
	switch r {
	case assess.RiskLow:
		return 21
	case assess.RiskMedium:
		return 47
	case assess.RiskHigh:
		return 73
	}
	return 0
}

// ecsType is event.type: a listener that opened starts, one that closed
// ends, and the rest informs (ECS allows no "change" with network).
func ecsType(k events.Kind) string {
	switch k {
	case events.Opened:
		return "start"
	case events.Closed:
		return "end"
	}
	return "info"
}

// line is the ECS form of one event.
func (c *ecsEncoder) line(e *events.Event) ecsLine {
	l := ecsLine{
		Timestamp: e.Time.UTC().Format(time.RFC3339Nano),
		Message:   e.Where() + ": " + e.Text,
		ECS:       ecsVersionF{ecsVersion},
		Event: ecsEvent{Kind: "event", Category: []string{"network"}, Type: []string{ecsType(e.Kind)},
			Action: string(e.Kind), Severity: ecsSeverity(e.Risk), RiskScore: ecsRiskScore(e.Risk),
			Module: "portwatch", Dataset: "portwatch.events"},
		Server:   ecsServer{Address: e.Address, Port: e.Port},
		Observer: ecsObserver{Hostname: c.hostname, Product: "portwatch", Version: c.version},
		Labels:   ecsNetnsOnly{Netns: e.Netns},
	}
	if ecsAlerts[e.Kind] {
		l.Event.Kind = "alert"
	}
	if len(e.Codes) > 0 {
		l.Rule = &ecsRule{ID: e.Codes}
	}
	if e.Proto == "tcp" || e.Proto == "udp" {
		l.Network.Transport = e.Proto
	}
	if a, err := netip.ParseAddr(e.Address); err == nil {
		l.Server.IP = a.String()
		l.Network.Type = "ipv6"
		if a.Is4() {
			l.Network.Type = "ipv4"
		}
	}
	if e.PID != 0 || e.Process != "" || e.Exe != "" {
		l.Process = &ecsProcess{PID: e.PID, Name: e.Process, Executable: e.Exe}
	}
	if e.User != "" {
		l.User = &ecsUser{Name: e.User}
	}
	return l
}

// encode is an encoder: the event as one ECS JSON object.
func (c *ecsEncoder) encode(e *events.Event) ([]byte, error) {
	l := c.line(e)
	return json.Marshal(&l)
}
