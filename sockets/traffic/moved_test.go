package traffic

import (
	"net/netip"
	"testing"
	"time"

	"github.com/portwatch/portwatch/sockets"
)

func movedConn(inode uint64, name string, sent, recv uint64) sockets.Socket {
	s := sockets.Socket{Proto: sockets.TCP, Family: 4, Local: netip.MustParseAddr("10.0.0.1"), LPort: 40000,
		Remote: netip.MustParseAddr("10.0.0.2"), RPort: 443, State: sockets.StateEstablished, Inode: inode,
		Traffic: &sockets.Traffic{BytesSent: sent, BytesReceived: recv}}
	if name != "" {
		s.Owners = []*sockets.Process{{PID: 1, Name: name}}
	}
	return s
}

// Poll.Moved is what each program's connections moved since the last poll
// with counters: all of a connection first seen, the difference after, a
// new connection on a reused inode counted from zero, a poll without
// counters nothing (its movement is counted at the next poll that has
// them), and a quiet poll no map at all.
func TestMovedByProgram(t *testing.T) {
	tr := NewTracker()
	at := time.Unix(1000, 0)
	poll := func(counters bool, socks ...sockets.Socket) map[string]Bytes {
		at = at.Add(time.Second)
		if !counters {
			for i := range socks {
				socks[i].Traffic = nil
			}
		}
		return tr.Observe(&sockets.Snapshot{Sockets: socks, Counters: counters, Taken: at}).Moved
	}
	m := poll(true, movedConn(1, "curl", 100, 1000), movedConn(2, "curl", 50, 0), movedConn(3, "nginx", 7, 9), movedConn(4, "", 1, 1))
	if m["curl"] != (Bytes{150, 1000}) || m["nginx"] != (Bytes{7, 9}) || m["(unknown)"] != (Bytes{1, 1}) {
		t.Fatalf("first poll: %v", m)
	}
	if m := poll(false, movedConn(1, "curl", 0, 0), movedConn(3, "nginx", 0, 0)); m != nil {
		t.Errorf("a poll without counters moved %v", m)
	}
	m = poll(true, movedConn(1, "curl", 160, 1500), movedConn(3, "nginx", 7, 9)) // 2 closed, 3 quiet
	if m["curl"] != (Bytes{60, 500}) || len(m) != 1 {
		t.Errorf("after one connection moved and one closed: %v, want curl 60/500 only", m)
	}
	if m := poll(true, movedConn(1, "curl", 160, 1500), movedConn(3, "nginx", 7, 9)); m != nil {
		t.Errorf("a quiet poll moved %v", m)
	}
	if m := poll(true, movedConn(1, "curl", 5, 5)); m["curl"] != (Bytes{5, 5}) {
		t.Errorf("a reused inode: %v, want curl 5/5", m)
	}
}
