//go:build linux

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// bashCompletionShim stands in for the bash-completion package's
// _get_comp_words_by_ref, the one function cobra's script takes from it,
// where the package is not installed.
const bashCompletionShim = `_get_comp_words_by_ref() { cur="${COMP_WORDS[COMP_CWORD]}"; prev="${COMP_WORDS[COMP_CWORD-1]}"; words=("${COMP_WORDS[@]}"); cword=$COMP_CWORD; }`

// TestBashCompletion: portwatch completion bash writes a script that bash
// parses (bash -n) and that, sourced in bash and asked as the shell asks on
// a Tab, completes portwatch's commands and a command's flags, by asking
// the built binary.
func TestBashCompletion(t *testing.T) {
	bash := needTool(t, "bash", "bash")
	code, script, errOut := runArgs(t, "completion", "bash")
	if code != 0 || errOut != "" || !strings.Contains(script, "__start_portwatch") {
		t.Fatalf("completion bash: exit %d, stderr %q, script %.200q", code, errOut, script)
	}
	file := filepath.Join(t.TempDir(), "portwatch.bash")
	if err := os.WriteFile(file, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bash, "-n", file).CombinedOutput(); err != nil {
		t.Fatalf("bash -n: %v\n%s", err, out)
	}
	setup := "source /usr/share/bash-completion/bash_completion 2>/dev/null || " + bashCompletionShim + "\nsource " + file + "\n"
	complete := func(words ...string) []string {
		t.Helper()
		// COMP_WORDS[0] is the binary's path: the script runs it, as the
		// shell would run an alias.
		line := strings.Join(words, " ")
		sh := setup + `COMP_WORDS=(` + strings.Join(quoteAll(words), " ") + `); COMP_CWORD=$((${#COMP_WORDS[@]}-1))
COMP_LINE=` + shellQuote(line) + `; COMP_POINT=${#COMP_LINE}
__start_portwatch 2>/dev/null; printf '%s\n' "${COMPREPLY[@]}"`
		out, err := exec.Command(bash, "-c", sh).Output()
		if err != nil {
			t.Fatalf("completing %q: %v", line, err)
		}
		return strings.Fields(string(out))
	}
	bin := sharedBinary(t)
	got := complete(bin, "")
	for _, sub := range listedCommands(newPortwatch()) {
		name := strings.Fields(sub.CommandPath())[1]
		if !slices.Contains(got, name) {
			t.Errorf("portwatch <Tab> completes %q, without %s", got, name)
		}
	}
	if got := complete(bin, "watch", "--metrics-a"); !slices.Equal(got, []string{"--metrics-addr"}) {
		t.Errorf("portwatch watch --metrics-a<Tab> completes %q, want --metrics-addr", got)
	}
	if got := complete(bin, "baseline", ""); !slices.Equal(got, []string{"save"}) {
		t.Errorf("portwatch baseline <Tab> completes %q, want save", got)
	}
}

// TestZshAndFishCompletion: the zsh and fish scripts are cobra's, asking
// portwatch itself; each shell parses its own where it is installed.
func TestZshAndFishCompletion(t *testing.T) {
	for _, sh := range []string{"zsh", "fish"} {
		code, script, errOut := runArgs(t, "completion", sh)
		if code != 0 || errOut != "" || !strings.Contains(script, "__complete") || !strings.Contains(script, "portwatch") {
			t.Errorf("completion %s: exit %d, stderr %q, script %.200q", sh, code, errOut, script)
			continue
		}
		path, err := exec.LookPath(sh)
		if err != nil {
			t.Logf("%s is not installed: its script is not parsed", sh)
			continue
		}
		file := filepath.Join(t.TempDir(), "portwatch."+sh)
		os.WriteFile(file, []byte(script), 0o644)
		if out, err := exec.Command(path, "-n", file).CombinedOutput(); err != nil {
			t.Errorf("%s -n: %v\n%s", sh, err, out)
		}
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"completion"}, "portwatch: completion needs a shell: portwatch completion bash, zsh or fish (see portwatch completion --help)\n"},
		{[]string{"completion", "tcsh"}, `portwatch: unknown shell "tcsh": portwatch completion bash, zsh or fish (see portwatch completion --help)` + "\n"},
		{[]string{"completion", "bash", "x"}, `portwatch: unexpected argument "x": portwatch completion bash takes flags only (see portwatch completion bash --help)` + "\n"},
	} {
		if code, out, errOut := runArgs(t, c.args...); code != 2 || out != "" || errOut != c.want {
			t.Errorf("%q: exit %d, stdout %.80q, stderr %q; want 2 and %q", c.args, code, out, errOut, c.want)
		}
	}
}

func quoteAll(words []string) []string {
	out := make([]string, len(words))
	for i, w := range words {
		out[i] = shellQuote(w)
	}
	return out
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
