package main

import (
	"flag"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestReadmeFlagsMatchHelp: every flag in the README's table exists, and
// every flag portwatch has is in the README and in --help.
func TestReadmeFlagsMatchHelp(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "## Flags")
	if !ok {
		t.Fatal("the README has no Flags section")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	documented := map[string]bool{}
	for _, m := range regexp.MustCompile("(?m)^\\| `--([a-z-]+)`").FindAllStringSubmatch(section, -1) {
		documented[m[1]] = true
	}
	_, helpOut, _ := runArgs(t, "--help")
	var o options
	fs := newFlagSet(&o)
	defined := map[string]bool{}
	fs.VisitAll(func(f *flag.Flag) {
		defined[f.Name] = true
		if !documented[f.Name] {
			t.Errorf("--%s is not in the README's Flags table", f.Name)
		}
		if !strings.Contains(helpOut, "--"+f.Name) {
			t.Errorf("--%s is not in --help", f.Name)
		}
	})
	for name := range documented {
		if !defined[name] {
			t.Errorf("the README documents --%s, which portwatch does not have", name)
		}
	}
	if len(documented) == 0 {
		t.Error("no flags found in the README")
	}
	// The README's two commands.
	for _, cmd := range []string{"go run ./cmd/portwatch", "bash scripts/test.sh"} {
		if !strings.Contains(string(readme), cmd) {
			t.Errorf("the README lacks %q", cmd)
		}
	}
	for _, img := range regexp.MustCompile(`\(screenshots/([a-z0-9-]+\.png)\)`).FindAllStringSubmatch(string(readme), -1) {
		if _, err := os.Stat("../../screenshots/" + img[1]); err != nil {
			t.Errorf("the README shows a missing image: %v", err)
		}
	}
}
