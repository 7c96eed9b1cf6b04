//go:build linux

package firewall

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"syscall"

	"github.com/portwatch/portwatch/sockets/clean"
	"github.com/portwatch/portwatch/sockets/safefile"
	"golang.org/x/sys/unix"
)

// firewalld's nft rules do not carry the service, port or rich rule the admin added: "tcp dport 22
// accept" in filter_IN_public_allow is firewall-cmd --zone=public --add-service=ssh only by what the
// zone's XML (/etc/firewalld/zones, else /usr/lib/firewalld/zones) and the service's
// (/usr/lib/firewalld/services, /etc/firewalld/services) say. Those files are read here, bounded
// (files, bytes, elements), only regular files owned by root and writable by no one else, every
// name checked against what firewalld itself accepts; then a deciding rule in a zone's chain is
// said as the firewall-cmd command whose entry made it. A rule no entry explains (a runtime-only
// change, a file unread) keeps "firewalld zone Z": never a guess.

// Bounds on what is read: firewalld ships about 220 services and 10 zones.
const (
	fwdMaxFiles   = 1024     // per directory
	fwdMaxBytes   = 64 << 10 // per file
	fwdMaxEntries = 256      // services, ports and rich rules per zone; ports per service
)

// fwdName is a zone or service name as firewalld accepts it (and as a file name, without .xml).
var fwdName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}$`)

// fwdPortRe is a port or range and protocol of a zone's or service's port entry.
var fwdPortRe = regexp.MustCompile(`^[0-9]{1,5}(-[0-9]{1,5})?$`)

// firewalldConfig is what firewalld's files say the zones allow.
type firewalldConfig struct {
	zones    map[string]*fwdZone
	services map[string][]fwdPort
}

type fwdPort struct{ port, proto string } // "6000-6002", "tcp"

type fwdZone struct {
	services []string
	ports    []fwdPort
	rich     []fwdRich
}

// fwdRich is a rich rule of the kinds firewall-cmd's --add-rich-rule writes for a port or a
// service from a source, and its text as firewall-cmd --list-rich-rules prints it.
type fwdRich struct {
	family  string // "ipv4", "ipv6", "" for both
	source  netip.Prefix
	invert  bool
	ports   []fwdPort // its port, or its service's
	action  string    // accept, reject, drop (its type and limit in text)
	text    string
	service string
}

// The XML as firewalld writes it (firewall/core/io/zone.py, service.py).
type xmlZone struct {
	Services []struct {
		Name string `xml:"name,attr"`
	} `xml:"service"`
	Ports []xmlPort `xml:"port"`
	Rules []xmlRule `xml:"rule"`
}

type xmlPort struct {
	Port     string `xml:"port,attr"`
	Protocol string `xml:"protocol,attr"`
}

type xmlService struct {
	Ports []xmlPort `xml:"port"`
}

type xmlRule struct {
	Family   string `xml:"family,attr"`
	Priority string `xml:"priority,attr"`
	Source   *struct {
		Address string `xml:"address,attr"`
		Invert  string `xml:"invert,attr"`
		Ipset   string `xml:"ipset,attr"`
		Mac     string `xml:"mac,attr"`
	} `xml:"source"`
	Destination *struct{} `xml:"destination"`
	Service     *struct {
		Name string `xml:"name,attr"`
	} `xml:"service"`
	Port   *xmlPort   `xml:"port"`
	Accept *xmlAction `xml:"accept"`
	Reject *xmlAction `xml:"reject"`
	Drop   *xmlAction `xml:"drop"`
	Other  []struct {
		XMLName xml.Name
	} `xml:",any"`
}

// xmlAction is a rich rule's accept, reject or drop, with its rate limit ("10/m").
type xmlAction struct {
	Type  string `xml:"type,attr"` // reject's ICMP type
	Limit *struct {
		Value string `xml:"value,attr"`
	} `xml:"limit"`
	Other []struct {
		XMLName xml.Name
	} `xml:",any"`
}

// fwdLimit is a limit's value as firewalld accepts it.
var fwdLimit = regexp.MustCompile(`^[0-9]{1,9}/[smhd]$`)

// LoadFirewalld reads firewalld's zones and services under root ("/" for the machine's own files,
// or a namespace's /proc/PID/root), once per ruleset and only for one firewalld wrote, so that
// its deciding rules are said as the firewall-cmd commands that made them. Files that cannot be
// read, or are not root's, leave the zone's name alone in the verdicts.
func (r *Ruleset) LoadFirewalld(root string) {
	if !r.hasFirewalld() {
		return
	}
	r.mu.Lock()
	done := r.fwdRead
	r.fwdRead = true
	r.mu.Unlock()
	if done {
		return
	}
	cfg := readFirewalld(filepath.Join(root, "etc/firewalld"), filepath.Join(root, "usr/lib/firewalld"), 0)
	r.setFirewalld(cfg)
}

func (r *Ruleset) hasFirewalld() bool {
	for _, t := range r.tables {
		if t.name == "firewalld" && t.family == famINET {
			return true
		}
	}
	return false
}

func (r *Ruleset) setFirewalld(cfg *firewalldConfig) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fwd, r.fwdRead = cfg, true
	r.memo = nil
}

func (r *Ruleset) firewalld() *firewalldConfig {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.fwd
}

// readFirewalld reads the zones (etc's over lib's of the same name) and the services they name,
// files owned by owner (root's: 0). Never nil.
func readFirewalld(etc, lib string, owner uint32) *firewalldConfig {
	cfg := &firewalldConfig{zones: map[string]*fwdZone{}, services: map[string][]fwdPort{}}
	raw := map[string]*xmlZone{}
	for _, dir := range []string{lib, etc} { // etc's file replaces lib's
		for name, path := range xmlFiles(filepath.Join(dir, "zones"), owner) {
			var z xmlZone
			if readXML(path, owner, &z) == nil {
				raw[name] = &z
			}
		}
	}
	svcPaths := map[string]string{}
	for _, dir := range []string{lib, etc} {
		for name, path := range xmlFiles(filepath.Join(dir, "services"), owner) {
			svcPaths[name] = path
		}
	}
	service := func(name string) ([]fwdPort, bool) {
		if ps, ok := cfg.services[name]; ok {
			return ps, true
		}
		path, ok := svcPaths[name]
		if !ok {
			return nil, false
		}
		var s xmlService
		if readXML(path, owner, &s) != nil {
			return nil, false
		}
		ps := portsOf(s.Ports)
		cfg.services[name] = ps
		return ps, true
	}
	for name, z := range raw {
		fz := &fwdZone{ports: portsOf(z.Ports)}
		for i, s := range z.Services {
			if i < fwdMaxEntries && fwdName.MatchString(s.Name) {
				if _, ok := service(s.Name); ok {
					fz.services = append(fz.services, s.Name)
				}
			}
		}
		for i, xr := range z.Rules {
			if i >= fwdMaxEntries {
				break
			}
			if rr, ok := richRule(xr, service); ok {
				fz.rich = append(fz.rich, rr)
			}
		}
		cfg.zones[name] = fz
	}
	return cfg
}

// xmlFiles are a directory's NAME.xml files by name, at most fwdMaxFiles, the directory owned by
// owner and writable by no one else (else none).
func xmlFiles(dir string, owner uint32) map[string]string {
	out := map[string]string{}
	var st syscall.Stat_t
	if syscall.Lstat(dir, &st) != nil || st.Mode&syscall.S_IFMT != syscall.S_IFDIR || st.Uid != owner || st.Mode&0o022 != 0 {
		return out
	}
	f, err := os.Open(dir)
	if err != nil {
		return out
	}
	defer f.Close()
	ents, _ := f.ReadDir(fwdMaxFiles)
	for _, e := range ents {
		name, ok := strings.CutSuffix(e.Name(), ".xml")
		if ok && e.Type().IsRegular() && fwdName.MatchString(name) {
			out[name] = filepath.Join(dir, e.Name())
		}
	}
	return out
}

// readXML decodes one file: a regular file (not a link) owned by owner and writable by no one
// else, of at most fwdMaxBytes.
func readXML(path string, owner uint32, v any) error {
	f, err := safefile.OpenRead(path)
	if err != nil {
		return err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return err
	}
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok || st.Uid != owner || st.Mode&0o022 != 0 {
		return errors.New(path + ": not root's, or writable by others")
	}
	b, err := io.ReadAll(io.LimitReader(f, fwdMaxBytes+1))
	if err != nil {
		return err
	}
	if len(b) > fwdMaxBytes {
		return fmt.Errorf("%s: over %d bytes", path, fwdMaxBytes)
	}
	return xml.Unmarshal(b, v)
}

// portsOf keeps the well-formed port entries: a port or range, tcp, udp, sctp or dccp.
func portsOf(xs []xmlPort) []fwdPort {
	var out []fwdPort
	for i, x := range xs {
		if i >= fwdMaxEntries {
			break
		}
		switch x.Protocol {
		case "tcp", "udp", "sctp", "dccp":
		default:
			continue
		}
		if fwdPortRe.MatchString(x.Port) {
			out = append(out, fwdPort{x.Port, x.Protocol})
		}
	}
	return out
}

// richRule reads a rich rule of the kinds whose nft rule it can tell: a family, a source address
// (or none), a port or a service, and accept, reject or drop, nothing else (no log, no limit, no
// destination, no priority); its text is the one firewall-cmd --list-rich-rules prints.
func richRule(x xmlRule, service func(string) ([]fwdPort, bool)) (fwdRich, bool) {
	var rr fwdRich
	if len(x.Other) > 0 || x.Destination != nil || x.Priority != "" && x.Priority != "0" {
		return rr, false
	}
	parts := []string{"rule"}
	switch x.Family {
	case "ipv4", "ipv6":
		rr.family = x.Family
		parts = append(parts, `family="`+x.Family+`"`)
	case "":
	default:
		return rr, false
	}
	if s := x.Source; s != nil {
		if s.Ipset != "" || s.Mac != "" {
			return rr, false
		}
		p, err := netip.ParsePrefix(s.Address)
		if err != nil {
			a, aerr := netip.ParseAddr(s.Address)
			if aerr != nil {
				return rr, false
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		rr.source = p.Masked()
		src := `source address="` + s.Address + `"`
		if s.Invert == "True" || s.Invert == "true" || s.Invert == "yes" {
			rr.invert = true
			src = `source NOT address="` + s.Address + `"`
		}
		parts = append(parts, src)
	}
	switch {
	case x.Service != nil && x.Port == nil:
		if !fwdName.MatchString(x.Service.Name) {
			return rr, false
		}
		ps, ok := service(x.Service.Name)
		if !ok {
			return rr, false
		}
		rr.ports, rr.service = ps, x.Service.Name
		parts = append(parts, `service name="`+x.Service.Name+`"`)
	case x.Port != nil && x.Service == nil:
		ps := portsOf([]xmlPort{*x.Port})
		if len(ps) == 0 {
			return rr, false
		}
		rr.ports = ps
		parts = append(parts, `port port="`+ps[0].port+`" protocol="`+ps[0].proto+`"`)
	default:
		return rr, false
	}
	var act *xmlAction
	switch {
	case x.Accept != nil && x.Reject == nil && x.Drop == nil:
		rr.action, act = "accept", x.Accept
	case x.Reject != nil && x.Accept == nil && x.Drop == nil:
		rr.action, act = "reject", x.Reject
	case x.Drop != nil && x.Accept == nil && x.Reject == nil:
		rr.action, act = "drop", x.Drop
	default:
		return rr, false
	}
	word := rr.action
	if len(act.Other) > 0 || act.Type != "" && rr.action != "reject" {
		return rr, false
	}
	if act.Type != "" {
		if !fwdName.MatchString(act.Type) {
			return rr, false
		}
		word += ` type="` + act.Type + `"`
	}
	if act.Limit != nil {
		if !fwdLimit.MatchString(act.Limit.Value) {
			return rr, false
		}
		word += ` limit value="` + act.Limit.Value + `"`
	}
	rr.text = clean.Text(strings.Join(append(parts, word), " "))
	return rr, true
}

// firewalldSource names a firewalld chain's deciding rule as the firewall-cmd command that made
// it (firewall-cmd --zone=public --add-service=ssh), else its zone: "firewalld zone public".
func firewalldSource(ev *evaluator, c *chain, r *rule) string {
	zone, ok := firewalldZone(c.name)
	if !ok {
		if c.hook == unix.NF_INET_LOCAL_IN {
			return "firewalld default (no zone accepts it)"
		}
		return ""
	}
	if r != nil && fwdName.MatchString(zone) {
		if cfg := ev.rs.firewalld(); cfg != nil {
			if z := cfg.zones[zone]; z != nil {
				if cmd := z.command(cfg, r.String()); cmd != "" {
					return "firewall-cmd --zone=" + zone + " " + cmd
				}
			}
		}
	}
	return "firewalld zone " + zone
}

// firewalldZone is the zone of one of firewalld's per-zone chains.
func firewalldZone(name string) (string, bool) {
	for _, p := range []string{"filter_IN_", "filter_FWD_", "nat_PRE_"} {
		if rest, ok := strings.CutPrefix(name, p); ok {
			zone := rest
			for _, s := range []string{"_allow", "_deny", "_pre", "_post", "_log"} {
				zone = strings.TrimSuffix(zone, s)
			}
			return zone, true
		}
	}
	return "", false
}

// command is the zone entry that made an nft rule, as firewall-cmd's option: a rich rule when the
// rule names a source, else a service or a port the zone lists for the rule's port. A port two
// services share names both.
func (z *fwdZone) command(cfg *firewalldConfig, text string) string {
	proto, port := "", ""
	for _, p := range []string{"tcp", "udp", "sctp", "dccp"} {
		if v := ruleField(text, p+" dport"); v != "" {
			proto, port = p, v
		}
	}
	if port == "" || strings.Contains(port, ",") {
		return ""
	}
	action := ""
	switch f := strings.Fields(text); {
	case len(f) == 0:
	case strings.HasSuffix(text, " accept") || slices.Contains(f, "accept"):
		action = "accept"
	case slices.Contains(f, "drop"):
		action = "drop"
	case slices.Contains(f, "reject"):
		action = "reject"
	}
	family, saddr := "", ""
	if v := ruleField(text, "ip saddr"); v != "" {
		family, saddr = "ipv4", v
	} else if v := ruleField(text, "ip6 saddr"); v != "" {
		family, saddr = "ipv6", v
	}
	if saddr != "" || action != "accept" || strings.Contains(text, " limit rate ") {
		return z.richFor(family, saddr, proto, port, action) // a service or port has no limit
	}
	var names []string
	for _, s := range z.services {
		if hasPort(cfg.services[s], proto, port) {
			names = append(names, "--add-service="+s)
		}
	}
	if hasPort(z.ports, proto, port) {
		names = append(names, "--add-port="+port+"/"+proto)
	}
	sort.Strings(names)
	return strings.Join(names, " or ")
}

// richFor is the zone's rich rule for a source, a port and an action.
func (z *fwdZone) richFor(family, saddr, proto, port, action string) string {
	var src netip.Prefix
	if saddr != "" {
		p, err := netip.ParsePrefix(saddr)
		if err != nil {
			a, aerr := netip.ParseAddr(saddr)
			if aerr != nil {
				return ""
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		src = p.Masked()
	}
	for _, rr := range z.rich {
		if rr.source == src && !rr.invert && (rr.family == family || rr.family == "") &&
			rr.action == action && hasPort(rr.ports, proto, port) {
			return "--add-rich-rule='" + rr.text + "'"
		}
	}
	return ""
}

func hasPort(ps []fwdPort, proto, port string) bool {
	for _, p := range ps {
		if p.proto == proto && p.port == port {
			return true
		}
	}
	return false
}
