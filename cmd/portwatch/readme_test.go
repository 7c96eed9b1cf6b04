//go:build linux

package main

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// readmeSection returns the text of the README's "## title" section.
func readmeSection(t *testing.T, title string) string {
	t.Helper()
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "\n## "+title+"\n")
	if !ok {
		t.Fatalf("the README has no %s section", title)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	return section
}

// TestReadmeFlagsMatchHelp: every flag in the README's table exists, every
// flag portwatch has is in the README and in --help, and the README says of
// each what --help says (backticks aside, with the default).
func TestReadmeFlagsMatchHelp(t *testing.T) {
	section := readmeSection(t, "Flags")
	documented := map[string]string{} // flag -> meaning
	for _, m := range regexp.MustCompile("(?m)^\\| `--([a-z-]+)`(?:, `-[a-z]`)? \\| (.*) \\|$").FindAllStringSubmatch(section, -1) {
		documented[m[1]] = strings.ReplaceAll(m[2], "`", "")
	}
	defined := map[string]bool{}
	root := newPortwatch()
	// The root's flags and every command's: a flag several commands take
	// says the same in each, so the README has one row for it.
	var commands []*cobra.Command
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if !c.Hidden {
			commands = append(commands, c)
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	if len(commands) < 4 {
		t.Fatalf("found the commands %v, want the root, baseline, baseline save and watch at least", commands)
	}
	for _, c := range commands {
		path := strings.Fields(c.CommandPath())[1:]
		_, helpOut, _ := runArgs(t, append(slices.Clone(path), "--help")...)
		c.Flags().VisitAll(func(f *pflag.Flag) {
			defined[f.Name] = true
			meaning, ok := documented[f.Name]
			if !ok {
				t.Errorf("--%s (%s) is not in the README's Flags section", f.Name, c.CommandPath())
			}
			if !strings.Contains(helpOut, "--"+f.Name) {
				t.Errorf("--%s is not in %s --help", f.Name, c.CommandPath())
			}
			want := f.Usage
			if f.Value.Type() != "bool" && f.DefValue != "" {
				want += "; default " + f.DefValue
			}
			if ok && meaning != want {
				t.Errorf("the README says --%s is %q, %s --help %q", f.Name, meaning, c.CommandPath(), want)
			}
		})
	}
	for name := range documented {
		if !defined[name] {
			t.Errorf("the README documents --%s, which portwatch does not have", name)
		}
	}
	if len(documented) == 0 {
		t.Error("no flags found in the README")
	}
	readme, _ := os.ReadFile("../../README.md")
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

// TestReadmeJSONDocumentsEveryField: the README's JSON section names every
// key portwatch writes, every value of every enumeration and every finding
// code, and its example is a document with exactly the keys portwatch
// writes.
func TestReadmeJSONDocumentsEveryField(t *testing.T) {
	section := readmeSection(t, "JSON")
	quoted := map[string]bool{} // what the prose and tables quote, the example aside
	prose := regexp.MustCompile("(?s)```.*?```").ReplaceAllString(section, "")
	for _, m := range regexp.MustCompile("`([^`]+)`").FindAllStringSubmatch(prose, -1) {
		quoted[m[1]] = true
	}
	for _, spec := range []keySpec{docKeys, profileKeys, roleKeys, roleOptional, standoutKeys, docOnlyIf, docOptional, baselineKeys, missingKeys, socketKeys, listenerKeys, listenerOptional, firewallKeys, firewallOptional, connectionOptional,
		connectionKeys, ownerKeys, ownerOptional, serviceKeys, serviceOptional, findingKeys,
		socketOptional, identityKeys, identityOptional, findingOptional} {
		for k := range spec {
			if !quoted[k] {
				t.Errorf("the README's JSON section does not document the key `%s`", k)
			}
		}
	}
	for key, values := range jsonEnums {
		for _, v := range values {
			if !quoted[v] {
				t.Errorf("the README's JSON section does not list `%s`, a value of %s", v, key)
			}
		}
	}
	// The table of codes lists each code portwatch defines, and no other.
	codes := findingCodes(t)
	_, table, _ := strings.Cut(section, "\n| code |")
	table, _, _ = strings.Cut(table, "\n\n")
	listed := map[string]bool{}
	for _, m := range regexp.MustCompile("(?m)^\\| `([^`]+)` \\|").FindAllStringSubmatch(table, -1) {
		listed[m[1]] = true
		if !codes[m[1]] {
			t.Errorf("the README lists the finding code `%s`, which portwatch does not have", m[1])
		}
	}
	for code := range codes {
		if !listed[code] {
			t.Errorf("the README's table of finding codes lacks `%s`", code)
		}
	}

	_, example, ok := strings.Cut(section, "```json\n")
	example, _, _ = strings.Cut(example, "```")
	if !ok {
		t.Fatal("the README's JSON section has no example")
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(example), &doc); err != nil {
		t.Fatalf("the README's JSON example does not parse: %v", err)
	}
	c := &docChecker{codes: codes}
	c.document(doc)
	for _, p := range c.problems {
		t.Errorf("the README's JSON example: %s", p)
	}
	socks, _ := doc["sockets"].([]any)
	var kinds []string
	for _, s := range socks {
		kinds = append(kinds, s.(map[string]any)["kind"].(string))
	}
	if !slices.Contains(kinds, "listening") || !slices.Contains(kinds, "established") {
		t.Errorf("the README's JSON example shows sockets of kinds %v, want a listener and a connection", kinds)
	}
}
