//go:build linux

package collect

import (
	"net/netip"
	"time"

	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/firewall"
)

// A container's own listeners are reached from outside through the host: the host's prerouting
// and forward chains decide before the container's own rules (firewall.Behind). A namespace is
// behind the host when its default route leaves through one of the host's addresses (Docker's
// and Podman's bridges: the container's gateway is the bridge's address on the host); a
// namespace with a gateway elsewhere (macvlan, a lab's pair) is judged by its own rules alone.

// hostView is the host's view to judge a namespace with routes behind it: the one the host's
// round of this poll leaves (waited for, at most fwHostWait: the host's round started first), or
// nil when the namespace is not behind the host or the host's ruleset was not read.
func (f *fwReader) hostView(routes []firewall.Route) *fwView {
	f.mu.Lock()
	r := f.rounds[f.self]
	var done chan struct{}
	var last *fwView
	if r != nil {
		done, last = r.done, r.view
	}
	f.mu.Unlock()
	if r == nil || (last != nil && !firewall.RoutesVia(routes, last.addrs)) {
		return nil // not behind the host as the host last was: no wait
	}
	select {
	case <-done:
	case <-time.After(fwHostWait):
	}
	f.mu.Lock()
	v := r.view
	f.mu.Unlock()
	if v == nil || v.rs == nil || !firewall.RoutesVia(routes, v.addrs) {
		return nil
	}
	return v
}

// listenAddrs are the addresses a listener on listen is reached at among its namespace's:
// itself, or for a wildcard listener those of its family (both for a dual-stack one: invalid).
func listenAddrs(listen netip.Addr, addrs []netip.Addr) []netip.Addr {
	if listen.IsValid() && !listen.IsUnspecified() {
		return []netip.Addr{listen}
	}
	var out []netip.Addr
	for _, a := range addrs {
		if !listen.IsValid() || a.Is6() == listen.Is6() {
			out = append(out, a)
		}
	}
	return out
}

// insideRules: a published port's connection, past the host's DNAT and forward path, meets the
// rules of the namespace it is sent to: each published port joined to a listener there is judged
// by both (its verdict was the forward path's alone). Called with f.mu held.
func (f *fwReader) insideRules(published []sockets.Published) {
	for i := range published {
		p := &published[i]
		in := p.Inside
		if in == nil {
			continue
		}
		r := f.rounds[in.NetnsInode]
		if r == nil || r.view == nil {
			continue
		}
		own, ok := r.view.ownVerdict(fwKey{p.Proto, in.Local, in.Port})
		if !ok {
			own, ok = r.view.ownVerdict(fwKey{p.Proto, netip.Addr{}, in.Port}) // a dual-stack listener
		}
		if ok {
			p.Verdict = firewall.Through(p.Verdict, own.At(p.To.Addr()))
		}
	}
}
