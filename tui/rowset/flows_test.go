package rowset_test

import (
	"testing"
	"time"

	"github.com/portwatch/portwatch/sockets/traffic"
	"github.com/portwatch/portwatch/tui/rowset"
)

// A row takes its socket's flow. The quiet-poll skip stays: the same flow
// values (an idle machine) change nothing; new ones make the poll Moved
// (cells read differently) and not Reordered (no rebuild); a closed row
// lets go of its flow.
func TestRowsCarryTheirFlows(t *testing.T) {
	s, p := rowset.NewStore(), newPoller()
	idle := &traffic.Flow{Measured: true}
	busy := &traffic.Flow{Measured: true, In: 2e6}
	vs := p.verdicts(web, conn)
	s.ApplyFlows(vs, []*traffic.Flow{nil, idle}, t0)
	rowOf := func(port uint16) *rowset.Row {
		for _, r := range s.Rows(rowset.Query{Tab: rowset.All}, nil) {
			if r.Socket.LPort == port && !r.Socket.IsListening() {
				return r
			}
		}
		return nil
	}
	if r := rowOf(80); r.Flow() != idle {
		t.Fatalf("flow %v, want the idle one", r.Flow())
	}
	ch := s.ApplyFlows(p.verdicts(web, conn), []*traffic.Flow{nil, idle}, t0.Add(time.Second))
	if ch.Reordered || ch.Moved {
		t.Errorf("an idle poll: reordered %v, moved %v; want neither", ch.Reordered, ch.Moved)
	}
	ch = s.ApplyFlows(p.verdicts(web, conn), []*traffic.Flow{nil, busy}, t0.Add(2*time.Second))
	if ch.Reordered || !ch.Moved || rowOf(80).Flow() != busy {
		t.Errorf("bytes moved: reordered %v, moved %v; want moved only", ch.Reordered, ch.Moved)
	}
	// Flows shorter than the verdicts (MISSING rows follow): the rest have none.
	ch = s.ApplyFlows(p.verdicts(web, conn), nil, t0.Add(3*time.Second))
	if !ch.Moved || rowOf(80).Flow() != nil {
		t.Error("a socket without a flow kept the last one")
	}
	s.ApplyFlows(p.verdicts(web, conn), []*traffic.Flow{nil, busy}, t0.Add(4*time.Second))
	s.ApplyFlows(p.verdicts(web), []*traffic.Flow{nil}, t0.Add(5*time.Second))
	if r := rowOf(80); r == nil || !r.Removed() || r.Flow() != nil {
		t.Errorf("a closed row still moves: %+v", r)
	}
}

// Each visits every open row, closed ones left out.
func TestEachVisitsTheOpenRows(t *testing.T) {
	s, p := rowset.NewStore(), newPoller()
	s.Apply(p.verdicts(web, backdoor, conn), t0)
	s.Apply(p.verdicts(web, conn), t0.Add(time.Second))
	var got []uint16
	s.Each(func(r *rowset.Row) { got = append(got, r.Socket.LPort) })
	if len(got) != 2 {
		t.Errorf("Each visited %v, want the two open rows", got)
	}
}
