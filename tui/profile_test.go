package tui

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
	"github.com/portwatch/portwatch/sockets"
)

// The note's example: from listeners on 80, 443 and 22 an analyst
// concludes a web server, with secure communication, that allows remote
// management. R draws that conclusion, and the header shows the profile.
func TestProfileConcludesAsTheNoteDoes(t *testing.T) {
	socks := []sockets.Socket{
		sk(sockets.TCP, 4, "0.0.0.0", 80, "0.0.0.0", 0, "LISTEN", 101, procNginx),
		sk(sockets.TCP, 4, "0.0.0.0", 443, "0.0.0.0", 0, "LISTEN", 107, procNginx),
		sk(sockets.TCP, 6, "::", 22, "::", 0, "LISTEN", 102, procSSHD),
	}
	hs := started(t, 120, 40, snapAt(t0, socks))
	hs.keys("R")
	if hs.m.openView() != (profileView{}) {
		t.Fatal("R did not open the profile")
	}
	text := strings.Join(strings.Fields(ansi.Strip(profileView{}.text(&hs.m, 120))), " ")
	for _, want := range []string{
		"From listeners on 22, 80 and 443 an analyst concludes: a web server (with TLS), that allows remote administration (encrypted).",
		"nginx on *:443/tcp (https)", "sshd on *:22/tcp (ssh)",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the profile lacks %q:\n%s", want, text)
		}
	}
	if h := headerText(hs.m); !strings.Contains(h, "profile: web server (with TLS), remote administration (encrypted)") {
		t.Errorf("header: %s", h)
	}
	hs.keys("R")
	if hs.m.openView() != nil {
		t.Error("R did not close the profile")
	}
}

// What stands out is said with its risk: a database reachable on a web
// server.
func TestProfileSaysWhatStandsOut(t *testing.T) {
	hs := started(t, 120, 40)
	text := strings.Join(strings.Fields(ansi.Strip(profileView{}.text(&hs.m, 120))), " ")
	if !strings.Contains(text, "HIGH A database is reachable from outside on a web server") {
		t.Errorf("the profile lacks the exposed database:\n%s", text)
	}
}
