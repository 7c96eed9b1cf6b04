//go:build linux

package collect

import (
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/firewall"
	"github.com/portwatch/portwatch/sockets/reach"
)

// Reading and judging a namespace's firewall happens off the poll's path. Any user can make a
// network namespace of their own and load rules there (unshare -rn; nft -f), and root's portwatch
// reads it: a ruleset built to be slow must not slow the poll of the host's sockets. So each
// namespace's ruleset is read, and its listeners evaluated, by a round in the background: one at
// a time per namespace, at most fwRounds of other namespaces at once. A poll hands out what the
// last finished round says; a listener no round has judged yet is Unknown, saying so. The poll
// waits for the host's own round (its firewall is root's), bounded by fwHostWait, and only the
// first poll (--once, --json, a monitor's first screen) waits for the others, as long.
//
// What one round may cost is bounded by firewall.Limits (rules, elements, read time) and the
// evaluator's step budget per listener.

const (
	fwRounds   = 4               // rounds of other namespaces running at once
	fwHostWait = 2 * time.Second // how long a poll waits for the host's round, and the first for all
)

// Reasons of an Unknown verdict while no round has finished.
const (
	reasonFirewallPending = "ruleset still being read"
	reasonVerdictPending  = "listener still being evaluated against its firewall"
)

// fwKey is one evaluation, as assess.FirewallOf asks for it.
type fwKey struct {
	proto string
	addr  netip.Addr
	port  uint16
}

// fwKeyOf is the question assess.FirewallOf asks for a listener: both families for a dual-stack one.
func fwKeyOf(s *sockets.Socket) fwKey {
	addr := s.Local
	if s.DualStack {
		addr = netip.Addr{}
	}
	return fwKey{s.Proto.String(), addr, s.LPort}
}

// fwView is a namespace's firewall as a round left it: immutable, a sockets.Firewall.
type fwView struct {
	rs       *firewall.Ruleset
	verdicts map[fwKey]reach.Verdict
	pending  string // the reason for a listener the round did not judge
	// env is the namespace's addresses and routes the verdicts were judged
	// with (per-address verdicts, the forward path): a change judges again.
	env       string
	published []reach.Published
	addrs     []netip.Addr // the namespace's addresses: where a published port's listener is
	// own holds, for a namespace behind the host, its listeners' verdicts by its own rules alone
	// (verdicts has them through the host's too): what a published port's connection meets
	// inside, past the host's DNAT and forward path. nil: verdicts are its own.
	own map[fwKey]reach.Verdict
	// keys is the list of listeners the round judged (wantsOf's, never written): a round given
	// the same list, ruleset and env hands this view out again, judging and allocating nothing.
	keys []fwKey
}

// ownVerdict is the listener's verdict by its namespace's rules alone, if the round judged it.
func (v *fwView) ownVerdict(k fwKey) (reach.Verdict, bool) {
	m := v.own
	if m == nil {
		m = v.verdicts
	}
	got, ok := m[k]
	return got, ok
}

// Evaluate is the round's verdict, or Unknown while none has judged this listener.
func (v *fwView) Evaluate(proto string, listen netip.Addr, port uint16) reach.Verdict {
	if got, ok := v.verdicts[fwKey{proto, listen, port}]; ok {
		return got
	}
	return reach.Verdict{Kind: reach.Unknown, Reason: v.pending}
}

var pendingView = &fwView{pending: reasonFirewallPending}

// nsRound is one namespace's background work.
type nsRound struct {
	busy bool
	done chan struct{} // closed when the running round ends
	view *fwView       // the last finished round's; nil: the ruleset could not be asked for
	seen bool          // a round has finished
}

// fwReader runs the rounds. Its methods are called by Snapshot, one poll at a time.
type fwReader struct {
	cache *firewall.Cache
	slots chan struct{}

	mu     sync.Mutex
	rounds map[uint64]*nsRound
	polls  int
	self   uint64 // our own namespace: the host that namespaces behind it are reached through

	// What wantsOf keeps from poll to poll, used by Snapshot's goroutine
	// only: each namespace's last listeners (immutable: a round may still
	// read them), the lists being built, the questions of the poll.
	keys     map[uint64][]fwKey
	building map[uint64][]fwKey
	wants    map[uint64]want
}

func newFWReader(c *firewall.Cache) *fwReader {
	return &fwReader{cache: c, slots: make(chan struct{}, fwRounds), rounds: map[uint64]*nsRound{}}
}

// want is one namespace's question of a poll: through which process, for which listeners.
type want struct {
	pid   int
	label string // the namespace as its sockets are labelled
	keys  []fwKey
}

// wantsOf is each namespace's question of this poll, from its listeners (members: the other
// namespaces' processes). A namespace whose listeners are those of the last poll is handed the
// very same list (a round compares it to judge nothing again); a list once handed out is never
// written, and the map is the fwReader's, refilled every poll: a quiet poll allocates none.
func (f *fwReader) wantsOf(socks []sockets.Socket, self uint64, members map[uint64][]int32) map[uint64]want {
	if f.wants == nil {
		f.wants, f.keys, f.building = map[uint64]want{}, map[uint64][]fwKey{}, map[uint64][]fwKey{}
	}
	clear(f.wants)
	for ino, b := range f.building {
		f.building[ino] = b[:0]
	}
	for i := range socks {
		s := &socks[i]
		if !s.IsListening() {
			continue
		}
		w, ok := f.wants[s.NetnsInode]
		if !ok && s.NetnsInode != self {
			m := members[s.NetnsInode]
			if len(m) == 0 {
				continue
			}
			w.pid = int(m[0])
		}
		w.label = s.Netns
		f.wants[s.NetnsInode] = w
		f.building[s.NetnsInode] = append(f.building[s.NetnsInode], fwKeyOf(s))
	}
	for ino, b := range f.building {
		w, ok := f.wants[ino]
		if !ok { // no listener there now
			delete(f.building, ino)
			delete(f.keys, ino)
			continue
		}
		if !slices.Equal(f.keys[ino], b) {
			f.keys[ino] = slices.Clone(b)
		}
		w.keys = f.keys[ino]
		f.wants[ino] = w
	}
	return f.wants
}

// sameList says whether a and b are the very same list (not only equal).
func sameList(a, b []fwKey) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

// poll starts a round for each namespace that has none running, waits as described above, and
// hands out each namespace's firewall and the ports their rules publish, each joined to the
// listener of socks that answers it. Namespaces not in exist are forgotten, their sockets closed.
func (f *fwReader) poll(self uint64, wants map[uint64]want, exist func(uint64) bool, socks []sockets.Socket) (map[uint64]sockets.Firewall, []sockets.Published) {
	f.mu.Lock()
	first := f.polls == 0
	f.polls++
	for ino, r := range f.rounds {
		if !exist(ino) {
			delete(f.rounds, ino)
			if !r.busy {
				f.cache.Forget(ino)
			} // a running round forgets it when it ends
		}
	}
	for _, ino := range f.cache.Known() {
		if f.rounds[ino] == nil && !exist(ino) {
			f.cache.Forget(ino)
		}
	}
	var waits []chan struct{}
	f.self = self
	start := func(ino uint64, w want) {
		r := f.rounds[ino]
		if r == nil {
			r = &nsRound{}
			f.rounds[ino] = r
		}
		if !r.busy {
			r.busy, r.done = true, make(chan struct{})
			go f.round(ino, ino != self, w, r)
		}
		if first || ino == self {
			waits = append(waits, r.done)
		}
	}
	// The host's round first: the others' listeners behind it wait for it (behind.go).
	if w, ok := wants[self]; ok {
		start(self, w)
	}
	for ino, w := range wants {
		if ino != self {
			start(ino, w)
		}
	}
	f.mu.Unlock()

	deadline := time.NewTimer(fwHostWait)
	defer deadline.Stop()
wait:
	for _, done := range waits {
		select {
		case <-done:
		case <-deadline.C:
			break wait
		}
	}

	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[uint64]sockets.Firewall{}
	var published []sockets.Published
	addrs := map[uint64][]netip.Addr{}
	for ino, w := range wants {
		r := f.rounds[ino]
		switch {
		case !r.seen:
			out[ino] = pendingView
		case r.view != nil:
			out[ino] = r.view
			addrs[ino] = r.view.addrs
			for _, p := range r.view.published {
				published = append(published, sockets.Published{Published: p, Netns: w.label, NetnsInode: ino})
			}
		}
	}
	sockets.JoinPublished(published, socks, addrs)
	f.insideRules(published)
	return out, published
}

// round reads a namespace's ruleset (again only if it changed) and judges the listeners asked
// for, in the background.
func (f *fwReader) round(ino uint64, other bool, w want, r *nsRound) {
	if other {
		f.slots <- struct{}{}
		defer func() { <-f.slots }()
	}
	f.mu.Lock()
	last := r.view
	f.mu.Unlock()

	var view *fwView
	if rs, err := f.cache.Ruleset(w.pid, ino); err == nil {
		// A wildcard listener is judged per address where rules match
		// destinations, and a published port through the forward path out
		// of the interface that routes to it: both read the namespace's
		// addresses and routes (bounded reads of /proc/PID/net).
		addrs, _ := firewall.LocalAddrs(w.pid)
		routes, _ := firewall.Routes(w.pid)
		rs.SetLocal(addrs)
		rs.SetRoutes(routes)
		// firewalld's zone files, as the namespace's processes see them: its deciding
		// rules said as firewall-cmd commands (once per ruleset, only for firewalld's)
		root := "/"
		if w.pid != 0 {
			root = fmt.Sprintf("/proc/%d/root", w.pid)
		}
		rs.LoadFirewalld(root)
		// A published port is reached only when the namespace forwards.
		fwd := firewall.ReadForwarding(w.pid)
		rs.SetForwarding(fwd)
		env := fmt.Sprint(addrs, routes, fwd)
		// A namespace behind the host (a container) is judged through the host's rules too.
		var host *fwView
		if other {
			host = f.hostView(routes)
			env += fmt.Sprintf(" behind %p", host)
		}
		if last != nil && last.rs == rs && last.env == env && sameList(last.keys, w.keys) {
			f.finish(ino, r, last)
			return
		}
		view = &fwView{rs: rs, verdicts: make(map[fwKey]reach.Verdict, len(w.keys)), pending: reasonVerdictPending, env: env, addrs: addrs,
			keys: w.keys}
		view.published = rs.Published()
		for _, k := range w.keys {
			if last != nil && last.rs == rs && last.env == env {
				if v, ok := last.verdicts[k]; ok {
					view.verdicts[k] = v
					if o, ok := last.own[k]; ok {
						if view.own == nil {
							view.own = make(map[fwKey]reach.Verdict, len(w.keys))
						}
						view.own[k] = o
					}
					continue
				}
			}
			v := rs.Evaluate(k.proto, k.addr, k.port)
			if host != nil {
				if view.own == nil {
					view.own = make(map[fwKey]reach.Verdict, len(w.keys))
				}
				view.own[k] = v
				v = firewall.Behind(host.rs, v, k.proto, listenAddrs(k.addr, addrs), k.port)
			}
			view.verdicts[k] = v
		}
	}

	f.finish(ino, r, view)
}

// finish ends a round with its view.
func (f *fwReader) finish(ino uint64, r *nsRound, view *fwView) {
	f.mu.Lock()
	r.view, r.seen, r.busy = view, true, false
	close(r.done)
	if f.rounds[ino] != r {
		f.cache.Forget(ino) // the namespace went while this round ran
	}
	f.mu.Unlock()
}
