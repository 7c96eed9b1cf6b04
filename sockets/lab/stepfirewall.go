//go:build linux

package lab

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"syscall"
)

// The phases of step 5's firewall timeline, which repeats while the step
// stands, so that a class that looks late still sees every state.
const (
	fwOpen     = iota + 1 // no rule: the listener answers (nmap: open)
	fwFiltered            // tcp dport P drop (nmap: filtered)
	fwClosed              // tcp dport P reject with tcp reset (nmap: closed)
)

// stepFiltered: as root, a live listener goes open, filtered, closed and
// back, each for s.hold, by an nftables rule in the lab's namespace that
// the monitor reads every poll (its firewall verdict names the rule); a
// client knocks while it is filtered and waits in SYN_SENT, and the reset
// rule ends that wait with "connection refused". A port nothing listens on
// is refused at once. Without root there is no firewall to change, and the
// step says so instead of standing in for one.
func stepFiltered(ctx context.Context, s *scene, st *stepState) (string, string, error) {
	filtered, closed := s.port(PortFiltered), s.port(PortClosed)
	cl, err := s.helperFor(ctx, st, "lab-client", 5, "")
	if err != nil {
		return "", "", err
	}
	_, err = cl.call(ctx, "dial", "closed", loop(closed))
	if err == nil {
		return "", "", fmt.Errorf("port %d answered: something listens there", closed)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		return "", "", err
	}
	s.refused = err
	st.cleanup(func(context.Context) error { s.refused = nil; return nil })
	filter := ":" + strconv.Itoa(filtered/10)
	if !s.privileged {
		return fmt.Sprintf("lab-client (pid %d) knocked on %d: closed, nothing listens; the kernel answered with a reset "+
			"(connection refused; nmap: closed). An open port answers SYN-ACK (step 2). Filtered cannot be shown: it "+
			"takes a firewall rule, which needs root over a network namespace, and %s. With sudo, or user namespaces "+
			"allowed, a rule turns a listener open, filtered, closed.", cl.pid, closed, s.noNamespace()), filter, nil
	}
	srv, err := s.helperFor(ctx, st, progWeb, 5, "")
	if err != nil {
		return "", "", err
	}
	addr, o := s.public(filtered)
	if _, err := srv.call(ctx, "listen", append([]string{"srv", addr}, o...)...); err != nil {
		return "", "", bindErr(err, filtered)
	}
	st.cleanup(func(context.Context) error { return removeDropRule() })
	st.setPhase(fwOpen)
	hold := s.hold
	st.background(func(ctx context.Context) {
		for n := 0; ; n++ {
			if !sleep(ctx, hold) || setRule(uint16(filtered), ruleDrop) != nil {
				return
			}
			st.setPhase(fwFiltered)
			knock := "f" + strconv.Itoa(n)
			cl.send("dial", knock, loop(filtered)) // waits in SYN_SENT: its SYNs vanish
			if !sleep(ctx, hold) || setRule(uint16(filtered), ruleReset) != nil {
				return
			}
			st.setPhase(fwClosed)
			if !sleep(ctx, hold) || removeDropRule() != nil {
				return
			}
			st.setPhase(fwOpen)
		}
	})
	return fmt.Sprintf("lab-nginx (pid %d) listens on 0.0.0.0:%d; every %s the lab's nft rule changes (the monitor reads "+
		"it each poll: EXPOSED, and the rule in the details). No rule: open. `tcp dport %d drop`: filtered (nmap: "+
		"filtered), lab-client's knock waits in SYN_SENT (tab 3). `reject with tcp reset`: closed (nmap: closed), the knock is "+
		"refused. Then no rule, and round. %d, where nothing listens: refused at once.",
		srv.pid, filtered, seconds(hold), filtered, closed), filter, nil
}

// fwPhase is step 5's phase now, for tests: 0 when the step is not done.
func (s *scene) fwPhase() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st := s.states[4]; st != nil {
		return st.getPhase()
	}
	return 0
}
