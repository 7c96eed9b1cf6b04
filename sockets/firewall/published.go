//go:build linux

package firewall

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"net/netip"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/google/nftables/expr"
	"github.com/google/nftables/xt"
	"github.com/portwatch/portwatch/sockets/reach"
	"golang.org/x/sys/unix"
)

// Published ports: the DNAT rules of the way in (Docker's, Podman's, kube-proxy's iptables mode, an
// admin's port forward) each become an entry of their own, host address and port to namespace
// address and port, whether or not a proxy socket listens, judged on the path the packet really
// takes after its DNAT: the forward hook's chains (filter FORWARD, DOCKER-USER, the DOCKER chains),
// out of the interface that routes to its new destination. The namespace's routes (SetRoutes)
// say which interface that is, and which interface a source from outside comes in on (the route
// back to it: the reverse-path assumption of fib.go, noted).

const hookForward = unix.NF_INET_FORWARD

// Route is one route of the namespace's main table: a prefix, the interface it leaves by, and
// the gateway it goes through (invalid for a route to a link).
type Route struct {
	Prefix netip.Prefix
	Dev    string
	Via    netip.Addr
}

// SetRoutes gives the ruleset its namespace's routes (Routes).
func (r *Ruleset) SetRoutes(routes []Route) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if fmt.Sprint(routes) == fmt.Sprint(r.routes) {
		return
	}
	r.routes = append([]Route(nil), routes...)
	r.memo, r.pub = nil, nil
}

// routeDev is the interface the main table routes a to ("" when no route is known).
func (r *Ruleset) routeDev(a netip.Addr) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	best, dev := -1, ""
	for _, rt := range r.routes {
		if rt.Prefix.Contains(a) && rt.Prefix.Bits() > best {
			best, dev = rt.Prefix.Bits(), rt.Dev
		}
	}
	return dev
}

// viaDev is the set of addresses of a family whose route leaves by dev (longest prefix first);
// ok is false when no routes are known.
func (r *Ruleset) viaDev(v6 bool, dev string) (addrSet, bool) {
	r.mu.Lock()
	routes := append([]Route(nil), r.routes...)
	r.mu.Unlock()
	if len(routes) == 0 {
		return addrSet{}, false
	}
	sort.SliceStable(routes, func(i, j int) bool { return routes[i].Prefix.Bits() > routes[j].Prefix.Bits() })
	covered, region := emptySet(v6), emptySet(v6)
	for _, rt := range routes {
		if rt.Prefix.Addr().Is6() != v6 {
			continue
		}
		p := prefixSet(v6, fromAddr(rt.Prefix.Masked().Addr()), rt.Prefix.Bits())
		if rt.Dev == dev {
			region = region.union(p.minus(covered))
		}
		covered = covered.union(p)
	}
	return region, true
}

// forwardChain: the base chains a forwarded packet crosses.
func (ev *evaluator) forwardChain(c *chain) bool {
	if c.hook != hookForward {
		return false
	}
	switch c.table.family {
	case famINET:
		return true
	case famIPv4:
		return !ev.v6
	case famIPv6:
		return ev.v6
	}
	return false
}

// maxPublishedNotes bounds the notes a published port's verdict gathers from its ways to the DNAT.
const maxPublishedNotes = 16

// candidate is a port a DNAT rule matches.
type candidate struct {
	v6    bool
	proto uint8
	port  uint16
}

// Published is every published port of the ruleset with its verdict (remembered until the
// namespace's addresses or routes change: a poll asks every time).
func (r *Ruleset) Published() []reach.Published {
	if r.unreadable != "" {
		return nil
	}
	r.mu.Lock()
	if r.pub != nil {
		defer r.mu.Unlock()
		return *r.pub
	}
	r.mu.Unlock()
	var out []reach.Published
	for _, c := range r.dnatCandidates() {
		out = append(out, r.publishedFor(c)...)
	}
	r.mu.Lock()
	r.pub = &out
	r.mu.Unlock()
	return out
}

// dnatCandidates are the protocol and port of every DNAT rule that names them.
func (r *Ruleset) dnatCandidates() []candidate {
	seen := map[candidate]bool{}
	var out []candidate
	vmapsRead := map[*table]bool{}
	for _, c := range r.chains {
		for _, ru := range c.rules {
			var ports []candidate
			proto, port, ok := dnatPort(ru)
			switch {
			case ok:
				ports = []candidate{{proto: proto, port: port}}
			case port == 0 && (proto == unix.IPPROTO_TCP || proto == unix.IPPROTO_UDP) && !vmapsRead[c.table]:
				vmapsRead[c.table] = true // the table's maps give every port-less DNAT of it the same
				ports = r.tablePorts(c.table, proto)
			}
			for _, pp := range ports {
				for _, v6 := range []bool{false, true} {
					if (c.table.family == famIPv4 && v6) || (c.table.family == famIPv6 && !v6) {
						continue
					}
					k := candidate{v6, pp.proto, pp.port}
					if !seen[k] {
						seen[k] = true
						out = append(out, k)
					}
				}
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.v6 != b.v6 {
			return !a.v6
		}
		if a.proto != b.proto {
			return a.proto < b.proto
		}
		return a.port < b.port
	})
	return out
}

// dnatPort reads a DNAT rule's protocol and destination port: a native "tcp dport 8080" or an xt
// tcp or udp match on one port (ok false, port 0 and the protocol: a DNAT that names no port, as
// kube-proxy's nftables mode writes; all zero: no DNAT).
func dnatPort(ru *rule) (proto uint8, port uint16, ok bool) {
	var d dnatScan
	for _, n := range ru.nodes {
		d.node(n)
	}
	if !d.isDNAT {
		return 0, 0, false
	}
	return d.proto, d.port, d.port != 0 && (d.proto == unix.IPPROTO_TCP || d.proto == unix.IPPROTO_UDP)
}

// dnatScan is what dnatPort has read of a rule so far: the registers the
// protocol and the destination port were loaded into, and their values.
type dnatScan struct {
	isDNAT            bool
	protoReg, portReg uint32
	proto             uint8
	port              uint16
}

func (d *dnatScan) node(n node) {
	switch e := n.e.(type) {
	case *expr.Meta:
		if e.Key == expr.MetaKeyL4PROTO && !e.SourceRegister {
			d.protoReg = e.Register
		}
	case *expr.Payload:
		if e.Base == expr.PayloadBaseTransportHeader && e.Offset == 2 && e.Len == 2 {
			d.portReg = e.DestRegister
		}
	case *expr.Cmp:
		d.cmp(e)
	case *expr.Match:
		d.match(e)
	case *expr.Target:
		d.isDNAT = d.isDNAT || e.Name == "DNAT"
	case *expr.NAT:
		d.isDNAT = d.isDNAT || e.Type == expr.NATTypeDestNAT
	}
}

// cmp reads an equality on the protocol's or the port's register.
func (d *dnatScan) cmp(e *expr.Cmp) {
	if e.Op != expr.CmpOpEq {
		return
	}
	switch {
	case e.Register == d.protoReg && d.protoReg != 0 && len(e.Data) == 1:
		d.proto = e.Data[0]
	case e.Register == d.portReg && d.portReg != 0 && len(e.Data) == 2:
		d.port = binary.BigEndian.Uint16(e.Data)
	}
}

// match reads iptables-nft's tcp or udp match on a single destination port.
func (d *dnatScan) match(e *expr.Match) {
	switch info := e.Info.(type) {
	case *xt.Tcp:
		if info.DstPorts[0] == info.DstPorts[1] && info.InvFlags&xt.TcpInvDestPorts == 0 {
			d.proto, d.port = unix.IPPROTO_TCP, info.DstPorts[0]
		}
	case *xt.Udp:
		if info.DstPorts[0] == info.DstPorts[1] && info.InvFlags&xt.UdpInvDestPorts == 0 {
			d.proto, d.port = unix.IPPROTO_UDP, info.DstPorts[0]
		}
	}
}

// publishedFor finds, for each of the machine's addresses, where a new connection to the port is
// sent, and judges each destination on the forward path.
func (r *Ruleset) publishedFor(c candidate) []reach.Published {
	type dest struct {
		to netip.AddrPort
		by decider
	}
	locals := r.localsOf(c.v6)
	if len(locals) == 0 {
		locals = []netip.Addr{{}} // not known: any destination, symbolically
	}
	hosts := map[dest][]netip.Addr{}
	srcs := map[dest]addrSet{}
	notes := map[dest][]string{} // what the way to the DNAT assumed (a mark, a fib lookup)
	marks := map[dest]piece{}    // the mark it set: the forward path's rules may read it
	var order []dest
	for _, a := range locals {
		ev := &evaluator{rs: r, v6: c.v6, proto: c.proto, port: c.port, daddr: a}
		for _, p := range ev.walk(ev.inputPath(), outsideSources(c.v6)) {
			if p.out != vEffect || !p.dnatTo.IsValid() {
				continue
			}
			d := dest{p.dnatTo, p.by}
			if _, ok := srcs[d]; !ok {
				order = append(order, d)
				srcs[d] = emptySet(c.v6)
			}
			srcs[d] = srcs[d].union(p.set)
			if m, ok := marks[d]; !ok {
				marks[d] = piece{marked: p.marked, mark: p.mark}
			} else if m.marked != p.marked || m.mark != p.mark {
				marks[d] = piece{marked: true} // ways that set different marks: unknown
			}
			if len(notes[d]) < maxPublishedNotes {
				notes[d] = append(notes[d], p.notes...)
			}
			if l := hosts[d]; len(l) == 0 || l[len(l)-1] != a {
				hosts[d] = append(l, a)
			}
		}
	}
	var out []reach.Published
	for _, d := range order {
		v := r.forwardVerdict(c, d.to, srcs[d], marks[d])
		v.Note = joinNotes(append([]string{v.Note}, notes[d]...)...)
		proto := "tcp"
		if c.proto == unix.IPPROTO_UDP {
			proto = "udp"
		}
		base := reach.Published{Proto: proto, HostPort: c.port, To: d.to, Rule: byText(d.by), Verdict: v,
			Input: r.inputPastDNAT(c, hosts[d][0])}
		if len(hosts[d]) == len(locals) {
			base.Host = unspecified(c.v6)
			out = append(out, base)
			continue
		}
		for _, h := range hosts[d] {
			e := base
			e.Host = h
			out = append(out, e)
		}
	}
	return out
}

func unspecified(v6 bool) netip.Addr {
	if v6 {
		return netip.IPv6Unspecified()
	}
	return netip.IPv4Unspecified()
}

// inputPastDNAT is the input path's verdict for the host port on host, the DNAT left aside.
func (r *Ruleset) inputPastDNAT(c candidate, host netip.Addr) Verdict {
	ev := &evaluator{rs: r, v6: c.v6, proto: c.proto, port: c.port, daddr: host, pastDNAT: true}
	return ev.run()
}

// forwardVerdict is what the sources that reach a DNAT meet on the forward path to its destination.
func (r *Ruleset) forwardVerdict(c candidate, to netip.AddrPort, srcs addrSet, mark piece) Verdict {
	if r.forwardingOf(c.v6) == ForwardOff {
		return notForwarded(c.v6)
	}
	ev := &evaluator{rs: r, v6: c.v6, proto: c.proto, port: to.Port(), daddr: to.Addr(), forward: true,
		oif: r.routeDev(to.Addr()), start: mark}
	chains := ev.inputPath()
	if len(chains) == 0 {
		return Verdict{Kind: Open, Note: "no firewall on the forward path"}
	}
	final := ev.walk(chains, srcs)
	if ev.over {
		return Verdict{Kind: Unknown, Reason: fmt.Sprintf("%s (%d steps: %d rules)", ReasonBudget, maxSteps, r.nRules)}
	}
	return ev.resolve(srcs, final)
}

// Routes are the routes of the main table of the network namespace of pid (0: our own), from its
// /proc/net/route and ipv6_route, parsed strictly and bounded.
func Routes(pid int) ([]Route, error) {
	dir := "/proc/self/net"
	if pid != 0 {
		dir = fmt.Sprintf("/proc/%d/net", pid)
	}
	var out []Route
	if f, err := os.Open(dir + "/route"); err == nil {
		out = append(out, parseRoute4(io.LimitReader(f, 1<<20))...)
		f.Close()
	}
	if f, err := os.Open(dir + "/ipv6_route"); err == nil {
		out = append(out, parseRoute6(io.LimitReader(f, 1<<20))...)
		f.Close()
	}
	if len(out) > 4*maxLocalAddrs {
		return nil, nil // a full routing table: the evaluator does not split sources by it
	}
	return out, nil
}

func parseRoute4(r io.Reader) []Route {
	var out []Route
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 8 || f[0] == "Iface" {
			continue
		}
		dst, err1 := strconv.ParseUint(f[1], 16, 32)
		mask, err2 := strconv.ParseUint(f[7], 16, 32)
		flags, err3 := strconv.ParseUint(f[3], 16, 32)
		gw, err4 := strconv.ParseUint(f[2], 16, 32)
		if err1 != nil || err2 != nil || err3 != nil || err4 != nil || flags&1 == 0 { // RTF_UP
			continue
		}
		var via netip.Addr
		if flags&2 != 0 { // RTF_GATEWAY
			var g [4]byte
			binary.LittleEndian.PutUint32(g[:], uint32(gw))
			via = netip.AddrFrom4(g)
		}
		var b [4]byte
		binary.LittleEndian.PutUint32(b[:], uint32(dst))
		var m [4]byte
		binary.LittleEndian.PutUint32(m[:], uint32(mask))
		bits := 0
		for _, x := range m {
			for x&0x80 != 0 {
				bits++
				x <<= 1
			}
		}
		p, err := netip.AddrFrom4(b).Prefix(bits)
		if err == nil && len(out) < 8*maxLocalAddrs {
			out = append(out, Route{Prefix: p, Dev: f[0], Via: via})
		}
	}
	return out
}

func parseRoute6(r io.Reader) []Route {
	var out []Route
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 10 || len(f[0]) != 32 || f[9] == "lo" {
			continue
		}
		b, err := hex.DecodeString(f[0])
		bits, err2 := strconv.ParseUint(f[1], 16, 8)
		if err != nil || err2 != nil || bits > 128 || bytes.HasPrefix(b, []byte{0xff}) {
			continue
		}
		p, err := netip.AddrFrom16([16]byte(b)).Prefix(int(bits))
		var via netip.Addr
		if g, gerr := hex.DecodeString(f[4]); gerr == nil && len(g) == 16 {
			if a := netip.AddrFrom16([16]byte(g)); !a.IsUnspecified() {
				via = a
			}
		}
		if err == nil && len(out) < 8*maxLocalAddrs {
			out = append(out, Route{Prefix: p, Dev: f[9], Via: via})
		}
	}
	return out
}

// Published is reach.Published.
type Published = reach.Published
