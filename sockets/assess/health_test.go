package assess

import (
	"strings"
	"testing"

	"github.com/portwatch/portwatch/sockets"
)

// Each health state is a finding with a stable code and a sentence that
// explains it: what a retransmit is, what a stuck send queue means and
// which of its two causes the counters point to.
func TestHealthFindings(t *testing.T) {
	kb := testKnowledge(t)
	conn := sock(sockets.TCP, "10.0.0.5", 41000, "10.0.0.9", 5000, sockets.StateEstablished, 300)
	cases := []struct {
		health sockets.Health
		codes  []string
		words  []string
	}{
		{0, nil, nil},
		{sockets.HealthRetransmits, []string{CodeRetransmits}, []string{"A retransmit is a segment sent again", "lost"}},
		{sockets.HealthSendStuck | sockets.HealthZeroWindow, []string{CodeSendQueueStuck}, []string{"receive window is zero", "not reading"}},
		{sockets.HealthSendStuck, []string{CodeSendQueueStuck}, []string{"path may be broken", "tcp_retries2"}},
		{sockets.HealthRetransmits | sockets.HealthSendStuck, []string{CodeRetransmits, CodeSendQueueStuck}, nil},
	}
	for _, c := range cases {
		snap := &sockets.Snapshot{Sockets: []sockets.Socket{conn}}
		sockets.SetDirections(snap.Sockets)
		v := NewAssessor(kb).AssessWith(snap, Context{Health: []sockets.Health{c.health}}).Verdicts[0]
		var codes []string
		text := ""
		for _, f := range v.Findings {
			if f.Code == CodeRetransmits || f.Code == CodeSendQueueStuck {
				codes = append(codes, f.Code)
				text += f.Text
				if f.Severity != RiskLow {
					t.Errorf("%s is %v, want LOW: a health matter, not an attack", f.Code, f.Severity)
				}
			}
		}
		if strings.Join(codes, " ") != strings.Join(c.codes, " ") {
			t.Errorf("health %b: codes %v, want %v", c.health, codes, c.codes)
		}
		for _, w := range c.words {
			if !strings.Contains(text, w) {
				t.Errorf("health %b: the text lacks %q: %s", c.health, w, text)
			}
		}
		if v.Health != c.health {
			t.Errorf("verdict health %b, want %b", v.Health, c.health)
		}
	}
	// A listener has no health of its own.
	ln := sock(sockets.TCP, "0.0.0.0", 5000, "0.0.0.0", 0, sockets.StateListen, 1)
	v := NewAssessor(kb).AssessWith(&sockets.Snapshot{Sockets: []sockets.Socket{ln}}, Context{Health: []sockets.Health{sockets.HealthSendStuck}}).Verdicts[0]
	if hasCode(v.Findings, CodeSendQueueStuck) != nil {
		t.Error("a listener was called stuck")
	}
}

// The assessor keeps an unchanged connection's verdict whatever its
// counters do: only a change of its health state rebuilds it.
func TestOnlyTheHealthStateRebuildsAVerdict(t *testing.T) {
	kb := testKnowledge(t)
	as := NewAssessor(kb)
	poll := func(sent uint64, h sockets.Health) *Verdict {
		s := sock(sockets.TCP, "10.0.0.5", 41000, "10.0.0.9", 5000, sockets.StateEstablished, 300)
		s.Traffic = &sockets.Traffic{BytesSent: sent, RTT: uint32(sent % 977)}
		snap := &sockets.Snapshot{Sockets: []sockets.Socket{s}}
		sockets.SetDirections(snap.Sockets)
		return as.AssessWith(snap, Context{Health: []sockets.Health{h}}).Verdicts[0]
	}
	first := poll(1000, 0)
	if again := poll(5_000_000, 0); again != first {
		t.Error("bytes that moved rebuilt the verdict")
	}
	stuck := poll(5_000_000, sockets.HealthSendStuck)
	if stuck == first || hasCode(stuck.Findings, CodeSendQueueStuck) == nil {
		t.Fatal("a new health state did not rebuild the verdict")
	}
	if ReadsTheSame(first, stuck) {
		t.Error("a verdict with a new health state reads the same as before")
	}
	if again := poll(9_000_000, sockets.HealthSendStuck); again != stuck {
		t.Error("the same state, other counters: the verdict was rebuilt")
	}
	if back := poll(9_000_000, 0); back == stuck || hasCode(back.Findings, CodeSendQueueStuck) != nil {
		t.Error("the state cleared, the finding stayed")
	}
}
