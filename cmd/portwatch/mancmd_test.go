//go:build linux

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// TestManPages: portwatch man DIR writes a page for every command, named
// after it (portwatch.1, portwatch-watch.1, portwatch-baseline-save.1,
// portwatch-lab.1, ...), whose NAME says what --help's first line says and
// whose OPTIONS name every flag of that command; groff reads each without
// a warning.
func TestManPages(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "man1") // made by portwatch man
	t.Setenv("SOURCE_DATE_EPOCH", "1764633600")
	if code, out, errOut := runArgs(t, "man", dir); code != 0 || out != "" || errOut != "" {
		t.Fatalf("man %s: exit %d, stdout %q, stderr %q", dir, code, out, errOut)
	}
	for _, name := range []string{"portwatch.1", "portwatch-watch.1", "portwatch-baseline-save.1", "portwatch-lab.1"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("no %s: %v", name, err)
		}
	}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			if sub.IsAvailableCommand() {
				walk(sub)
			}
		}
		page := strings.ReplaceAll(c.CommandPath(), " ", "-") + ".1"
		roff, err := os.ReadFile(filepath.Join(dir, page))
		if err != nil {
			t.Errorf("%s has no man page: %v", c.CommandPath(), err)
			return
		}
		text := strings.ReplaceAll(string(roff), `\-`, "-")
		if !strings.Contains(text, strings.ReplaceAll(c.CommandPath(), " ", "-")+" - "+c.Short) {
			t.Errorf("%s's NAME does not say %q:\n%.300s", page, c.Short, text)
		}
		if !strings.Contains(text, "Dec 2025") {
			t.Errorf("%s is not dated by SOURCE_DATE_EPOCH:\n%.200s", page, text)
		}
		c.Flags().VisitAll(func(f *pflag.Flag) {
			if !strings.Contains(text, "--"+f.Name) {
				t.Errorf("%s does not name --%s", page, f.Name)
			}
		})
	}
	root := newPortwatch()
	walk(root)
	if len(root.Commands()) < 4 {
		t.Fatalf("only %d commands", len(root.Commands()))
	}
	if groff, err := exec.LookPath("groff"); err == nil {
		pages, _ := filepath.Glob(filepath.Join(dir, "*.1"))
		for _, p := range pages {
			if out, err := exec.Command(groff, "-man", "-Tutf8", "-ww", "-z", p).CombinedOutput(); err != nil || len(out) > 0 {
				t.Errorf("groff on %s: %v\n%s", filepath.Base(p), err, out)
			}
		}
	}
	for _, args := range [][]string{{"man"}, {"man", "a", "b"}, {"man", ""}} {
		if code, _, errOut := runArgs(t, args...); code != 2 || !strings.HasSuffix(errOut, "(see portwatch man --help)\n") {
			t.Errorf("%q: exit %d, stderr %q; want 2 and a line", args, code, errOut)
		}
	}
}

// TestHelpListsMan: portwatch --help lists the man command, so a user who
// installed from a tarball finds how to make the pages (it was hidden).
func TestHelpListsMan(t *testing.T) {
	code, out, errOut := runArgs(t, "--help")
	if code != 0 || errOut != "" {
		t.Fatalf("--help: exit %d, stderr %q", code, errOut)
	}
	if !strings.Contains(out, "man DIR") || !strings.Contains(out, "write the man pages into DIR") {
		t.Errorf("--help does not list the man command:\n%s", out)
	}
}
