package tui

import (
	"os"
	"strings"
	"testing"
)

// TestReadmeNamesEveryKey: the README's key table shows every binding.
func TestReadmeNamesEveryKey(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(readme)
	for _, group := range newKeyMap().FullHelp() {
		for _, b := range group {
			for _, k := range strings.Split(b.Help().Key, "/") {
				if !strings.Contains(text, "`"+k+"`") {
					t.Errorf("the README does not show key %q (%s)", k, b.Help().Desc)
				}
			}
		}
	}
}
