//go:build linux

package collect

import (
	"net/netip"
	"slices"
	"testing"

	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/firewall"
	"golang.org/x/sys/unix"
)

// fwListener is a TCP listener of namespace ino on port.
func fwListener(ino uint64, label string, port uint16) sockets.Socket {
	return sockets.Socket{Proto: sockets.TCP, Family: 4, Local: netip.MustParseAddr("0.0.0.0"), LPort: port,
		Remote: netip.IPv4Unspecified(), State: sockets.StateListen, Inode: uint64(port), Netns: label, NetnsInode: ino}
}

// A namespace whose listeners did not change is asked about the very same
// list as the last poll, allocating nothing; a changed one gets a new list,
// and the list handed out before stays as it was (a round may still read
// it); a namespace without listeners, or without a process to read it
// through, is not asked about.
func TestFirewallWantsAreKeptWhileTheListenersAre(t *testing.T) {
	if !alone(t) {
		return
	}
	f := newFWReader(&firewall.Cache{})
	members := map[uint64][]int32{2: {77}}
	socks := []sockets.Socket{fwListener(1, "host", 22), fwListener(1, "host", 80), fwListener(2, "c1", 8080), fwListener(3, "orphan", 9)}
	first := f.wantsOf(socks, 1, members)
	if len(first) != 2 || len(first[1].keys) != 2 || first[2].pid != 77 || first[2].label != "c1" {
		t.Fatalf("wants %+v", first)
	}
	hostKeys, nsKeys := first[1].keys, first[2].keys
	again := f.wantsOf(socks, 1, members)
	if !sameList(again[1].keys, hostKeys) || !sameList(again[2].keys, nsKeys) {
		t.Error("unchanged listeners: a new list")
	}
	if allocs := testing.AllocsPerRun(10, func() { f.wantsOf(socks, 1, members) }); allocs != 0 {
		t.Errorf("a quiet poll's wants: %.0f allocations, want 0", allocs)
	}
	socks[1].LPort = 443
	changed := f.wantsOf(socks, 1, members)
	if sameList(changed[1].keys, hostKeys) || changed[1].keys[1].port != 443 || hostKeys[1].port != 80 {
		t.Errorf("a changed listener: %+v, the list handed out before now %+v", changed[1].keys, hostKeys)
	}
	if !sameList(changed[2].keys, nsKeys) {
		t.Error("the other namespace's list was made again")
	}
	gone := f.wantsOf(socks[:2], 1, members)
	if _, ok := gone[2]; ok || len(f.keys) != 1 || len(f.building) != 1 {
		t.Errorf("a namespace without listeners: wants %v, %d lists kept", gone, len(f.keys))
	}
}

// A round given the same listeners, ruleset and namespace as the last one
// hands out the last one's view again, judging nothing; other listeners
// get a new view. (This namespace's ruleset is only read.)
func TestFirewallRoundReusesAnUnchangedView(t *testing.T) {
	var st unix.Stat_t
	if err := unix.Stat("/proc/self/ns/net", &st); err != nil {
		t.Skip("no network namespace to read:", err)
	}
	f := newFWReader(&firewall.Cache{})
	// round runs one round after one whose view was last.
	round := func(w want, last *fwView) *fwView {
		r := &nsRound{busy: true, done: make(chan struct{}), view: last, seen: last != nil}
		f.rounds[st.Ino] = r
		f.round(st.Ino, false, w, r)
		return r.view
	}
	keys := []fwKey{{"tcp", netip.Addr{}, 22}, {"tcp", netip.MustParseAddr("127.0.0.1"), 80}}
	first := round(want{keys: keys}, nil)
	if first == nil {
		t.Skip("this namespace's ruleset cannot be asked for here")
	}
	if again := round(want{keys: keys}, first); again != first {
		t.Errorf("the same listeners, ruleset and addresses: a new view")
	}
	if other := round(want{keys: keys[:1]}, first); other == first || len(other.verdicts) != 1 {
		t.Errorf("other listeners: the last view handed out again")
	}
	if equal := round(want{keys: slices.Clone(keys)}, first); equal == first || len(equal.verdicts) != 2 {
		t.Errorf("an equal list, not the same one: the last view handed out again") // wantsOf hands out the same one
	}
}
