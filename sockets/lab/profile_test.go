//go:build linux

package lab

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/assess"
	"github.com/portwatch/portwatch/sockets/baseline"
	"github.com/portwatch/portwatch/sockets/collect"
)

// checkProfile: step 10's listeners, read from the machine as the monitor
// reads them, draw the profile the narration concludes.
func checkProfile(c *checker, n Narration) {
	c.Helper()
	const conclusion = `"a web server, with secure communication, that allows remote management"`
	if !strings.Contains(n.Text, conclusion) {
		c.Errorf("step 10's narration does not draw the conclusion %s: %s", conclusion, n.Text)
	}
	if !c.privileged && !strings.Contains(n.Text, "a name is not an identity") {
		c.Errorf("step 10 without root does not say why the programs' names draw no profile: %s", n.Text)
	}
	pids := []int{c.pid(10, progSSH), c.pid(10, progWeb)}
	want := "web server (with TLS), remote administration (encrypted)"
	if !c.privileged {
		// the daemons' names on files no package installed name nothing
		want = "no role: no listener portwatch can name"
	}
	// As the lab's monitor judges them: against the scene's own baseline,
	// which names the stand-in for sshd on 22.
	b, err := baseline.Load(c.s.BaselinePath())
	if err != nil {
		c.Fatalf("the lab's baseline: %v", err)
	}
	var got string
	deadline := time.Now().Add(5 * time.Second)
	for {
		snap, err := collect.NewLive().Snapshot(context.Background())
		if err != nil {
			c.Fatal(err)
		}
		own := snap.Sockets[:0:0]
		for _, s := range snap.Sockets {
			if c.s.Mine(&s) && s.IsListening() && ownedBy(&s, pids) {
				if c.s.InOwnNamespace() && s.Netns == sockets.HostNetns {
					s.Netns = NetnsLabel // as the lab's monitor labels it
				}
				own = append(own, s)
			}
		}
		snap.Sockets = own
		a := assess.AssessWith(snap, assess.SystemKnowledge(), assess.Context{Baseline: b})
		got = assess.ProfileOf(a).Summary()
		if got == want && len(own) == 3 {
			for _, v := range a.Verdicts {
				for _, f := range v.Findings {
					if c.privileged && (f.Code == assess.CodeServiceMismatch || f.Code == assess.CodeUnknownListener ||
						f.Code == assess.CodeUnownedExe || f.Severity >= assess.RiskHigh) {
						c.Errorf("%s:%d: %s", v.Socket.Local, v.Socket.LPort, f.Text)
					}
				}
			}
			return
		}
		if time.Now().After(deadline) {
			c.Fatalf("step 10's profile is %q from %d listeners, want %q", got, len(own), want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func ownedBy(s *sockets.Socket, pids []int) bool {
	for _, p := range s.Owners {
		if slices.Contains(pids, int(p.PID)) {
			return true
		}
	}
	return false
}

// checkBaseline: against the baseline the scene wrote, only the backdoor
// is UNEXPECTED; the ordinary web server is not an unknown listener that
// "may be a backdoor", and the FTP server is not "a service in disguise".
func checkBaseline(c *checker) {
	c.Helper()
	b, err := baseline.Load(c.s.BaselinePath())
	if err != nil {
		c.Fatalf("the lab's baseline: %v", err)
	}
	ftp := c.step8Ports()[0]
	server := c.s.port(PortServer)
	backdoor := int(c.s.backdoor.Load())
	var bad []string
	deadline := time.Now().Add(5 * time.Second)
	for {
		snap, err := collect.NewLive().Snapshot(context.Background())
		if err != nil {
			c.Fatal(err)
		}
		own := snap.Sockets[:0:0]
		for _, s := range snap.Sockets {
			if c.s.Mine(&s) {
				if c.s.InOwnNamespace() && s.Netns == sockets.HostNetns {
					s.Netns = NetnsLabel // as the lab's monitor labels it
				}
				own = append(own, s)
			}
		}
		snap.Sockets = own
		a := assess.AssessWith(snap, assess.SystemKnowledge(), assess.Context{Baseline: b})
		bad = bad[:0]
		seen := map[int]bool{}
		for _, v := range a.Verdicts {
			if !v.Socket.IsListening() || v.Baseline.Status == baseline.Missing {
				continue
			}
			p := int(v.Socket.LPort)
			seen[p] = true
			if unexpected := v.Baseline.Status == baseline.Unexpected; unexpected != (p == backdoor) {
				bad = append(bad, fmt.Sprintf("%d is %v", p, v.Baseline.Status))
			}
			for _, f := range v.Findings {
				if (p == server && f.Code == assess.CodeUnknownListener) || (p == ftp && f.Code == assess.CodeServiceMismatch) {
					bad = append(bad, fmt.Sprintf("%d: %s", p, f.Text))
				}
				if p == ftp && f.Code == assess.CodeCleartext {
					seen[-1] = true // the cleartext lesson is there
				}
				if p == ftp && v.Socket.Exposure() == sockets.ExposureLoopback {
					seen[-2] = true // on loopback: nothing crosses a wire, no cleartext finding
				}
			}
		}
		// On loopback (the lab without a namespace of its own binds to lo)
		// nothing crosses a wire: the cleartext finding is for what does.
		if !seen[-1] && !seen[-2] && c.privileged { // without root its port is no catalog's, and the copy's name proves nothing
			bad = append(bad, fmt.Sprintf("%d has no cleartext finding", ftp))
		}
		if len(bad) == 0 && seen[backdoor] && seen[server] && seen[ftp] {
			return
		}
		if time.Now().After(deadline) {
			c.Fatalf("against the lab's baseline (listeners %v): %s", seen, strings.Join(bad, "; "))
		}
		time.Sleep(100 * time.Millisecond)
	}
}
