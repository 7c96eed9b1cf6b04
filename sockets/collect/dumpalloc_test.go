//go:build linux

package collect

import (
	"runtime"
	"testing"

	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/sockettest"
)

// A dump of sockets whose counters did not change allocates what its
// requests need and nothing per socket or per datagram: the sockets go
// into the recycled array, the idle counters are the last dump's values,
// and each datagram is read without a new source address (unix.Recvfrom
// made one a datagram: a hundred sockets each). Other programs' sockets
// may come and go, and move: a new value for counters that changed is not
// counted against the dump.
func TestQuietDumpAllocationsDoNotGrow(t *testing.T) {
	if !alone(t) {
		return
	}
	ln := sockettest.Listen(t, "tcp4", "127.0.0.1:0")
	l := newNetlinkLister()
	var spare []sockets.Socket
	last := map[uint64]*sockets.Traffic{}
	// dumpAllocs is the fewest allocations of three dumps, less the
	// counters that changed (each a new value).
	dumpAllocs := func() int {
		fewest := -1
		var err error
		for range 4 {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			spare, err = l.list(spare, false)
			runtime.ReadMemStats(&after)
			if err != nil {
				t.Skip("sock_diag:", err)
			}
			renewed := 0
			for i := range spare {
				if tr := spare[i].Traffic; tr != nil && last[spare[i].Inode] != tr {
					renewed++
				}
			}
			clear(last)
			for i := range spare {
				last[spare[i].Inode] = spare[i].Traffic
			}
			if n := int(after.Mallocs-before.Mallocs) - renewed; fewest < 0 || n < fewest {
				fewest = n
			}
		}
		return fewest
	}
	few := dumpAllocs()
	for range 600 { // 1,200 sockets more with counters: a dozen datagrams
		sockettest.Connect(t, ln)
	}
	spare = make([]sockets.Socket, 0, 2*len(spare)+2000)
	many := dumpAllocs()
	if many > few {
		t.Errorf("a quiet dump: %d allocations, %d with 1,200 sockets more", few, many)
	}
}
