package tui

import (
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/portwatch/portwatch/sockets"
)

// The SIGKILL follow-up never takes a key meant for something else: with
// the filter prompt open when the check comes, it only says so, and a "y"
// typed there is filter text.
func TestSIGKILLFollowUpNeverStealsKeys(t *testing.T) {
	hs := started(t, 100, 30)
	hs.selectPort(6379)
	hs.keys("K", "y", "/")
	if n := hs.fire(killCheckMsg{}); n != 1 {
		t.Fatalf("%d checks scheduled", n)
	}
	if hs.m.kill != nil {
		t.Fatal("the SIGKILL question opened under the filter prompt")
	}
	if !strings.Contains(hs.m.status, "pid 940 still hold tcp4 0.0.0.0:6379 after SIGTERM") {
		t.Errorf("status %q", hs.m.status)
	}
	hs.keys("y")
	if !slices.Equal(hs.kills, []string{"940 terminated"}) || hs.m.filter.value() != "y" {
		t.Errorf("signals %v, filter %q: a y typed as filter text must stay filter text", hs.kills, hs.m.filter.value())
	}
	// Back on the table, K on the same socket offers SIGKILL, by name.
	hs.keys("esc")
	hs.selectPort(6379)
	hs.keys("K")
	if hs.m.kill == nil || hs.m.kill.sig != sigKill || !strings.Contains(hs.m.View(), "Send SIGKILL to the process holding tcp4 0.0.0.0:6379") {
		t.Fatalf("K after SIGTERM does not offer SIGKILL:\n%s", hs.m.View())
	}
	hs.keys("y")
	if !slices.Equal(hs.kills, []string{"940 terminated", "940 killed"}) {
		t.Errorf("signals %v", hs.kills)
	}
}

// A socket shared by a pre-fork server's master and workers: the dialog
// names every holder, y ends them all, m the master only; after the grace
// the ones still holding it are offered SIGKILL.
func TestKillListsEveryHolderOfASharedSocket(t *testing.T) {
	hs := started(t, 100, 40)
	hs.selectPort(80)
	hs.keys("K")
	view := hs.m.View()
	for _, want := range []string{"Send SIGTERM to the 2 processes holding tcp4 0.0.0.0:80?", "pid 812  nginx  user root  (master: ending it ends the others)",
		"pid 813  nginx  user www-data", "nginx: worker process", "m: the master only"} {
		if !strings.Contains(view, want) {
			t.Errorf("the dialog lacks %q:\n%s", want, view)
		}
	}
	hs.keys("y")
	if !slices.Equal(hs.kills, []string{"812 terminated", "813 terminated"}) {
		t.Fatalf("y sent %v, want SIGTERM to both", hs.kills)
	}
	hs.fire(killCheckMsg{}) // both still hold it
	if hs.m.kill == nil || hs.m.kill.sig != sigKill || len(hs.m.kill.targets) != 2 {
		t.Fatalf("no SIGKILL offered for the two still holding the port:\n%s", hs.m.View())
	}
	hs.keys("n")

	fresh := started(t, 100, 40)
	fresh.selectPort(80)
	fresh.keys("K", "m")
	if !slices.Equal(fresh.kills, []string{"812 terminated"}) {
		t.Errorf("m sent %v, want SIGTERM to the master alone", fresh.kills)
	}
}

// The dialog is about one socket and exact processes: when the socket
// closes or its owners change before the answer, it closes and says so.
func TestKillDialogClosesWhenItsSocketChanges(t *testing.T) {
	base := fixtureSockets()
	gone := slices.DeleteFunc(slices.Clone(base), func(s sockets.Socket) bool { return s.LPort == 6379 })
	reowned := slices.Clone(base)
	other := *procRedis
	other.PID, other.StartTicks = 941, 777 // a new process holds it now
	reowned[2].Owners = []*sockets.Process{&other}
	for _, c := range []struct {
		name string
		next []sockets.Socket
		want string
	}{{"closed", gone, "the socket closed while the dialog was open: nothing was sent"},
		{"new owner", reowned, "the processes holding the socket changed: nothing was sent"}} {
		hs := started(t, 100, 30, snapAt(t0, base), snapAt(t0, c.next))
		hs.selectPort(6379)
		hs.keys("K")
		hs.poll()
		if hs.m.kill != nil || !strings.Contains(hs.m.status, c.want) {
			t.Errorf("%s: dialog open %v, status %q", c.name, hs.m.kill != nil, hs.m.status)
		}
		hs.keys("y")
		if len(hs.kills) != 0 {
			t.Errorf("%s: a signal was sent: %v", c.name, hs.kills)
		}
	}
}

// The signal carries the process's start time, so the sender can refuse a
// pid that another process took meanwhile.
func TestKillNamesThePidAndItsStartTime(t *testing.T) {
	hs := started(t, 100, 30)
	var got []uint64
	hs.m.cfg.Signal = func(p sockets.Process, _ syscall.Signal) error {
		got = append(got, p.StartTicks)
		return nil
	}
	hs.selectPort(6379)
	hs.keys("K", "y")
	if !slices.Equal(got, []uint64{procRedis.StartTicks}) || procRedis.StartTicks == 0 {
		t.Errorf("start times sent %v, want %d", got, procRedis.StartTicks)
	}
}
