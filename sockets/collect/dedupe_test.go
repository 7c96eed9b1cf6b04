//go:build linux

package collect

import (
	"slices"
	"testing"

	"github.com/portwatch/portwatch/sockets"
)

// TestDedupeByInode: a socket the kernel listed twice in one poll (a dump
// resumed by hash bucket while another program changed the table) is kept
// once, its first listing; sockets without an inode (TIME_WAIT remnants)
// are all kept; the order is kept; the array is reused, its tail cleared.
func TestDedupeByInode(t *testing.T) {
	mk := func(ino uint64, lport uint16, state string) sockets.Socket {
		return sockets.Socket{Inode: ino, LPort: lport, State: state, Proto: sockets.TCP, Family: 4}
	}
	in := []sockets.Socket{
		mk(10, 1, "LISTEN"), mk(0, 2, "TIME_WAIT"), mk(11, 3, "ESTABLISHED"), mk(10, 1, "LISTEN"),
		mk(0, 2, "TIME_WAIT"), mk(12, 4, "SYN_SENT"), mk(11, 3, "FIN_WAIT1"), mk(13, 5, "LISTEN"),
	}
	want := []sockets.Socket{mk(10, 1, "LISTEN"), mk(0, 2, "TIME_WAIT"), mk(11, 3, "ESTABLISHED"), mk(0, 2, "TIME_WAIT"), mk(12, 4, "SYN_SENT"), mk(13, 5, "LISTEN")}
	var d deduper
	array := &in[0]
	got := d.dedupe(in)
	if !slices.EqualFunc(got, want, sameListing) {
		t.Errorf("got %v\nwant %v", got, want)
	}
	if len(got) > 0 && &got[0] != array {
		t.Error("the array was not reused")
	}
	for i, s := range in[len(got):] {
		if !sameListing(s, sockets.Socket{}) {
			t.Errorf("tail %d not cleared: %+v", i, s)
		}
	}
	// Nothing twice: the same slice back; the table reused across calls.
	once := []sockets.Socket{mk(1, 1, "LISTEN"), mk(2, 2, "LISTEN"), mk(0, 3, "TIME_WAIT")}
	if got := d.dedupe(slices.Clone(once)); !slices.EqualFunc(got, once, sameListing) {
		t.Errorf("got %v, want %v", got, once)
	}
	var many []sockets.Socket
	for i := range 5000 {
		many = append(many, mk(uint64(i%2500+1), uint16(i), "ESTABLISHED"))
	}
	if got := d.dedupe(many); len(got) != 2500 || got[2499].LPort != 2499 {
		t.Errorf("5000 listings of 2500 sockets: kept %d", len(got))
	}
	if got := d.dedupe(nil); len(got) != 0 {
		t.Errorf("nil: %v", got)
	}
}

// sameListing compares what the dedupe test sets.
func sameListing(a, b sockets.Socket) bool {
	return a.Inode == b.Inode && a.LPort == b.LPort && a.State == b.State && a.Proto == b.Proto && a.Family == b.Family
}
