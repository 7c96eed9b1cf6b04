//go:build linux

package assess

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/collect"
)

// dialFrom connects from a given loopback source address, so a test's
// "remote" is an address of its own.
func dialFrom(t *testing.T, src string, to net.Addr) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 2 * time.Second}
	c, err := d.Dial("tcp4", to.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// scanVerdicts counts the inbound connections from remote to the test's
// own listeners (in this namespace: another has a 127.0.0.x of its own)
// and those of them with the scan finding.
func scanVerdicts(t *testing.T, as *Assessor, remote string, ours []net.Listener) (scanned, total int) {
	t.Helper()
	mine := map[uint16]bool{}
	for _, ln := range ours {
		mine[uint16(ln.Addr().(*net.TCPAddr).Port)] = true
	}
	snap, err := collect.NewLive().Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range as.Assess(snap).Verdicts {
		if v.Socket.Direction != sockets.Inbound || v.Socket.Remote.String() != remote ||
			v.Socket.Netns != sockets.HostNetns || !mine[v.Socket.LPort] {
			continue
		}
		total++
		if hasCode(v.Findings, CodePortScan) != nil {
			scanned++
		}
	}
	return scanned, total
}

// A real burst from one address across many of our ports is a scan, also
// when it comes in pieces poll after poll; a busy client of one port is not.
func TestScanFindingOnARealBurst(t *testing.T) {
	var lns []net.Listener
	for range ScanThreshold + 2 {
		ln, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		go func() { // accept and hold
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				defer c.Close()
			}
		}()
		lns = append(lns, ln)
	}
	as := NewAssessor(testKnowledge(t))
	// The scanner, 127.0.0.9: half the ports in one poll, the rest in the next.
	half := len(lns) / 2
	var first []net.Conn
	for _, ln := range lns[:half] {
		first = append(first, dialFrom(t, "127.0.0.9", ln.Addr()))
	}
	if n, total := scanVerdicts(t, as, "127.0.0.9", lns); n != 0 || total != half {
		t.Fatalf("after %d ports: %d of %d connections called a scan", half, n, total)
	}
	for _, c := range first {
		c.Close()
	}
	for _, ln := range lns[half:] {
		dialFrom(t, "127.0.0.9", ln.Addr())
	}
	if n, total := scanVerdicts(t, as, "127.0.0.9", lns); n == 0 || n != total {
		t.Errorf("a scan across %d ports in a minute: %d of %d connections carry the finding", len(lns), n, total)
	}
	// A busy client, 127.0.0.10, with 30 connections to one port.
	for range 30 {
		dialFrom(t, "127.0.0.10", lns[0].Addr())
	}
	if n, total := scanVerdicts(t, as, "127.0.0.10", lns); n != 0 || total < 30 {
		t.Errorf("a busy single-port client: %d of %d connections called a scan", n, total)
	}
}
