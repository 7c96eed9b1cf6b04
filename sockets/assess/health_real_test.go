package assess

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/collect"
	"github.com/portwatch/portwatch/sockets/sockettest"
	"github.com/portwatch/portwatch/sockets/traffic"
)

// healthPoller polls the machine as the monitor does: collect, the traffic
// tracker, then the assessor with the tracker's health.
type healthPoller struct {
	src *collect.Live
	tr  *traffic.Tracker
	as  *Assessor
}

func newHealthPoller(t *testing.T, stuckAfter time.Duration) *healthPoller {
	tr := traffic.NewTracker()
	tr.StuckAfter = stuckAfter
	return &healthPoller{src: collect.NewLive(), tr: tr, as: NewAssessor(testKnowledge(t))}
}

// poll returns the verdict and flow of the socket match picks, if listed.
func (hp *healthPoller) poll(t *testing.T, match func(*sockets.Socket) bool) (*Verdict, *traffic.Flow) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	snap, err := hp.src.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p := hp.tr.Observe(snap)
	a := hp.as.AssessWith(snap, Context{Health: p.Health})
	for i, v := range a.Verdicts {
		if match(&v.Socket) {
			var f *traffic.Flow
			if p.Flows != nil {
				f = p.Flows[i]
			}
			return v, f
		}
	}
	return nil, nil
}

// A stuck send queue made for real: the receiver stops reading, the sender
// writes until its queue is full. Its connection is judged stuck, because
// the peer does not read (its window is zero), and the receiver's queue
// holds what it did not read.
func TestRealStuckSendQueue(t *testing.T) {
	sockettest.SkipShort(t, "5 s: a send queue full for longer than the 2 s after which it is stuck")
	p := sockettest.LoopbackPair(t)
	client := p.Client // and the server's end is never read from
	// Write until the kernel takes no more: both buffers are full.
	buf := make([]byte, 64<<10)
	client.SetWriteDeadline(time.Now().Add(3 * time.Second))
	written := 0
	for {
		n, err := client.Write(buf)
		written += n
		if err != nil {
			if !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatal(err)
			}
			break
		}
	}
	cport, sport := p.ClientAddr().Port(), p.ServerAddr().Port()
	// In this namespace: another has a loopback, and port numbers, of its own.
	sender := func(s *sockets.Socket) bool {
		return s.Netns == sockets.HostNetns && s.LPort == cport && s.RPort == sport
	}
	receiver := func(s *sockets.Socket) bool {
		return s.Netns == sockets.HostNetns && s.LPort == sport && s.RPort == cport
	}

	hp := newHealthPoller(t, 2*time.Second)
	var v *Verdict
	var f *traffic.Flow
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		v, f = hp.poll(t, sender)
		if v != nil && hasCode(v.Findings, CodeSendQueueStuck) != nil {
			break
		}
		// Polls half a second apart, as the monitor's would be: "stuck"
		// is a queue that has not moved for StuckAfter, so time passing is
		// what is tested.
		time.Sleep(500 * time.Millisecond)
	}
	if v == nil || f == nil || f.Counters == nil {
		t.Fatalf("the sender's connection was not listed with counters (wrote %d bytes)", written)
	}
	c := f.Counters
	t.Logf("wrote %d bytes; send queue %d, sent (acknowledged) %d, window %d (known %v), timer %v; health %b",
		written, c.SendQueue, c.BytesSent, c.SendWindow, c.WindowKnown, v.Socket.Timer, f.Health)
	fd := hasCode(v.Findings, CodeSendQueueStuck)
	if fd == nil {
		t.Fatalf("no %s finding after the queue filled: %+v", CodeSendQueueStuck, v.Findings)
	}
	if !strings.Contains(fd.Text, "receive window is zero") {
		t.Errorf("the finding does not say the peer is not reading: %s", fd.Text)
	}
	// The kernel counts the SYN of the side that opened the connection as
	// one byte acknowledged (tcpi_bytes_acked, as ss -i shows it).
	if c.SendQueue == 0 || uint64(written)+1 != c.BytesSent+uint64(c.SendQueue) {
		t.Errorf("sent %d + queued %d, the test wrote %d (and the SYN)", c.BytesSent, c.SendQueue, written)
	}
	rv, rf := hp.poll(t, receiver)
	if rv == nil || rf == nil || rf.Counters.RecvQueue == 0 || uint64(rf.Counters.RecvQueue) != rf.Counters.BytesReceived {
		t.Errorf("the receiver's queue does not hold what it did not read: %+v", rf)
	}
	if rv != nil && hasCode(rv.Findings, CodeSendQueueStuck) != nil {
		t.Error("the receiver, whose send queue is empty, was called stuck")
	}
}

// Retransmits made for real: in a network namespace of the test's own,
// nftables drops one TCP segment in ten as it arrives on loopback (after
// the sender sent it: a drop on the way out is an error the sender sees,
// not a loss), and a sender keeps writing to a reader. The kernel
// retransmits, the counter climbs, and the connection has the finding.
func TestRealRetransmitsClimb(t *testing.T) {
	sockettest.NeedRoot(t, "to make a network namespace")
	for _, tool := range []string{"unshare", "nft", "python3", "ip"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed", tool)
		}
	}
	const script = `
import socket, subprocess, sys, threading, time
ln = socket.socket(); ln.bind(("127.0.0.1", 0)); ln.listen()
c = socket.create_connection(ln.getsockname()); s, _ = ln.accept()
subprocess.run(["nft", "-f", "-"], check=True, input=b"""
table inet lossy { chain in { type filter hook input priority 0; meta l4proto tcp numgen random mod 10 == 0 drop; }; }
""")
def drain():
    while s.recv(1 << 16):
        pass
threading.Thread(target=drain, daemon=True).start()
print(c.getsockname()[1], ln.getsockname()[1], flush=True)
buf = b"x" * 8192
while True:
    c.sendall(buf)
    time.sleep(0.005)
`
	cmd := exec.Command("unshare", "--net", "--", "sh", "-c", `ip link set lo up && exec python3 -c "$0"`, script)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Skipf("cannot make a network namespace here: %v", err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Skipf("the namespace's sender did not start (no nftables here?): %v", err)
	}
	ports := strings.Fields(line)
	cport, _ := strconv.Atoi(ports[0])
	sport, _ := strconv.Atoi(ports[1])
	sender := func(s *sockets.Socket) bool {
		return s.Netns != sockets.HostNetns && s.LPort == uint16(cport) && s.RPort == uint16(sport)
	}

	hp := newHealthPoller(t, traffic.StuckAfter)
	var v *Verdict
	var f *traffic.Flow
	for range 20 {
		v, f = hp.poll(t, sender)
		if v != nil && hasCode(v.Findings, CodeRetransmits) != nil {
			break
		}
		time.Sleep(400 * time.Millisecond)
	}
	if v == nil || f == nil {
		t.Fatal("the namespace's connection was not listed with counters")
	}
	t.Logf("retransmits %d, sent %d, out %.0f B/s, health %b", f.Counters.Retransmits, f.Counters.BytesSent, f.Out, f.Health)
	if hasCode(v.Findings, CodeRetransmits) == nil {
		t.Errorf("no %s finding after %d retransmits: %+v", CodeRetransmits, f.Counters.Retransmits, v.Findings)
	}
}
