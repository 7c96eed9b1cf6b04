//go:build linux

package lab

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/assess"
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
	if !c.privileged && !strings.Contains(n.Text, "the profile reads the same from the programs") {
		c.Errorf("step 10 without root does not say the profile comes from the programs: %s", n.Text)
	}
	pids := []int{c.pid(10, progSSH), c.pid(10, progWeb)}
	want := "web server (with TLS), remote administration (encrypted)"
	if !c.privileged {
		// assess names nginx on a port outside the catalog http, TLS or not.
		want = "web server (cleartext only), remote administration (encrypted)"
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
				own = append(own, s)
			}
		}
		snap.Sockets = own
		a := assess.Assess(snap, assess.SystemKnowledge())
		got = assess.ProfileOf(a).Summary()
		if got == want && len(own) == 3 {
			for _, v := range a.Verdicts {
				for _, f := range v.Findings {
					if f.Code == assess.CodeServiceMismatch || f.Code == assess.CodeUnknownListener {
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
