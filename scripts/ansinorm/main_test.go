package main

import (
	"strings"
	"testing"
)

func TestNormalize(t *testing.T) {
	// What tmux capture-pane -e printed for: bold red HIGH, a reset, reverse
	// "rev", a green background, a 256-colour x, and a style left open at
	// the end of the line.
	in := "\x1b[1m\x1b[31mHIGH\x1b[0m\x1b[39m\x1b[49m \x1b[7mrev\x1b[0m \x1b[42mbg\x1b[49m \x1b[38;5;208mx\n\x1b[1mbold\nplain\n"
	got := normalize(in)
	lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines, want 3: %q", len(lines), got)
	}
	want := []string{
		"\x1b[0;1;38;2;224;90;90mHIGH",                // bold red
		"\x1b[0;38;2;208;208;208m ",                   // back to the default
		"\x1b[0;38;2;23;23;23;48;2;208;208;208mrev",   // reverse: swapped defaults
		"\x1b[0;38;2;208;208;208;48;2;124;196;106mbg", // background green
		"\x1b[0;38;2;255;135;0mx",                     // 256-colour 208
	}
	for _, w := range want {
		if !strings.Contains(lines[0], w) {
			t.Errorf("line 1 lacks %q:\n%q", w, lines[0])
		}
	}
	if !strings.HasPrefix(lines[1], "\x1b[0;1;38;2;255;135;0mbold") {
		t.Errorf("a style open at a line's end is not restated on the next: %q", lines[1])
	}
	if !strings.HasSuffix(lines[0], "\x1b[0m") {
		t.Errorf("a line does not end with a reset: %q", lines[0])
	}
	if strings.Contains(got, "[39m") || strings.Contains(got, "[49m") || strings.Contains(got, "[7m") {
		t.Errorf("tmux's partial resets survived: %q", got)
	}
	if lines[2] != "\x1b[0;1;38;2;255;135;0mplain\x1b[0m" {
		t.Errorf("line 3: %q", lines[2])
	}
}
