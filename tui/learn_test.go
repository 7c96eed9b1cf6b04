package tui

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
	"github.com/portwatch/portwatch/sockets"
)

// learnOf is L's text; flat joins its wrapped lines into one.
func learnOf(hs *harness, w int) string { return ansi.Strip(learnView{}.text(&hs.m, w)) }

func flat(s string) string { return strings.Join(strings.Fields(s), " ") }

// Issue 25: L told a lab's students to save a baseline with b, which walks
// back in the lab. L names the key of the mode it is in.
func TestLearnNamesTheBaselineKeyOfItsMode(t *testing.T) {
	hs := started(t, 80, 24)
	if l := flat(learnOf(hs, 80)); !strings.Contains(l, "save a baseline (b)") {
		t.Errorf("outside the lab, L does not name b:\n%s", l)
	}
	lab, _ := labHarness(t, 80, 24)
	l := flat(learnOf(lab, 80))
	if strings.Contains(l, "save a baseline (b)") || !strings.Contains(l, "in the lab b walks back a step") {
		t.Errorf("in the lab, L names b as saving a baseline:\n%s", l)
	}
}

// Issue 25: the lab's keys were not in ?.
func TestHelpListsTheLabKeysInTheLab(t *testing.T) {
	lab, _ := labHarness(t, 80, 24)
	h := ansi.Strip(helpView{}.text(&lab.m, 80))
	for _, want := range []string{"n next step", "b step back", "Lab           n or space: the next step"} {
		if !strings.Contains(h, want) {
			t.Errorf("? in the lab lacks %q:\n%s", want, h)
		}
	}
	hs := started(t, 80, 24)
	if h := ansi.Strip(helpView{}.text(&hs.m, 80)); strings.Contains(h, "step back") || !strings.Contains(h, "b baseline") {
		t.Errorf("? outside the lab offers the lab's keys, or not b:\n%s", h)
	}
}

// Issue 25: "0 not in the baseline" with no baseline at all.
func TestLearnSaysNothingOfABaselineThereIsNot(t *testing.T) {
	hs := started(t, 80, 24)
	l := flat(learnOf(hs, 80))
	if strings.Contains(l, "not in the baseline") || !strings.Contains(l, "no baseline to compare them with") {
		t.Errorf("L's attack surface without a baseline:\n%s", l)
	}
}

// Issue 25: with no connection, L said "On this machine now: none." twice
// in its second section.
func TestLearnSaysNoConnectionOnce(t *testing.T) {
	var listeners []sockets.Socket
	for _, s := range fixtureSockets() {
		if s.IsListening() {
			listeners = append(listeners, s)
		}
	}
	hs := started(t, 80, 24, snapAt(t0, listeners))
	l := learnOf(hs, 80)
	second := l[strings.Index(l, "Listening, established, in and out"):strings.Index(l, "The TCP states")]
	if strings.Count(second, "On this machine now") != 1 || !strings.Contains(second, "no established connection") {
		t.Errorf("L's second section:\n%s", second)
	}
}

// Issue 25: the note's common ports, 53 on TCP and UDP, 110 and 143 among
// them, named as the exam names them beside the registry's name.
func TestLearnHasTheNotesCommonPorts(t *testing.T) {
	hs := started(t, 120, 40)
	l := learnOf(hs, 120)
	for _, want := range []string{"53  udp/tcp  DNS         domain", "110  tcp      POP3        pop3", "143  tcp      IMAP        imap",
		"3389  tcp      RDP         ms-wbt-server", "445  tcp      SMB         microsoft-ds"} {
		if !strings.Contains(l, want) {
			t.Errorf("L's common ports lack %q", want)
		}
	}
}

// Every tab and the firewall verdict say which analyst command shows the
// same, in ? and in L; the EXPOSED words and the header's counts are
// explained in both.
func TestHelpAndLearnNameTheAnalystsCommands(t *testing.T) {
	hs := started(t, 120, 40)
	h, l := ansi.Strip(helpView{}.text(&hs.m, 120)), learnOf(hs, 120)
	for _, want := range []string{"ss -ltnp", "netstat -tlnp", "lsof -i -sTCP:LISTEN", "ss -tnp state established", "ss -tan", "netstat -an",
		"nmap -sS HOST", "all/open", "all/restr", "all/?", "all/filtered", "N reachable", "unknown"} {
		for name, text := range map[string]string{"?": h, "L": l} {
			if !strings.Contains(text, want) {
				t.Errorf("%s lacks %q", name, want)
			}
		}
	}
}

// Issue 25: at 80 columns ? cut its words ("watch connections open and
// clo"). It wraps.
func TestHelpWrapsAtEightyColumns(t *testing.T) {
	hs := started(t, 80, 24)
	h := ansi.Strip(helpView{}.text(&hs.m, 80))
	for _, l := range strings.Split(h, "\n") {
		if ansi.StringWidth(l) > 80 {
			t.Errorf("a line of ? is %d wide: %q", ansi.StringWidth(l), l)
		}
	}
	if !strings.Contains(flat(h), "watch connections open and close") {
		t.Errorf("? lost its words:\n%s", h)
	}
}

// Where the status line has room, it names the command that lists the
// same as the tab.
func TestStatusLineNamesTheTabsCommand(t *testing.T) {
	hs := started(t, 80, 24)
	for tab, want := range map[string]string{"1": "$ ss -ltnp", "2": "$ ss -tnp state established", "3": "$ ss -tan"} {
		hs.keys(tab)
		if s := strings.Join(statusText(hs.m), " "); !strings.Contains(s, want) {
			t.Errorf("tab %s: the status line reads %q", tab, s)
		}
	}
	hs = started(t, 120, 24, withFirewall(snapAt(t0, fixtureSockets()), portFirewall{}))
	if s := strings.Join(statusText(hs.m), " "); !strings.Contains(s, "EXPOSED: what nmap sees from outside") {
		t.Errorf("with the firewall read, the status line reads %q", s)
	}
}
