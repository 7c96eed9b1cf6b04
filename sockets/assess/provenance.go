package assess

import (
	"fmt"
	"path"
	"strings"
	"sync"

	"github.com/portwatch/portwatch/sockets"
)

// provenanceFindings judges what each owner's executable was proven to be
// (collection proves it against the package database: sockets/pkgproof)
// and what it was asked to run: a well-known name on a file no package
// installed, a file that differs from its package, a kernel thread's name
// on a process with an executable, inline interpreter code and a
// netcat-like "-e /bin/sh". Each is HIGH where the process listens or is
// a shell on the socket, MEDIUM on its other connections.
func provenanceFindings(s *sockets.Socket, f *findings) {
	grave := s.IsListening()
	for _, p := range s.Owners {
		if len(p.StdioOn(s.Inode)) > 0 {
			grave = true
		}
	}
	risk := RiskMedium
	if grave {
		risk = RiskHigh
	}
	var buf [4]*sockets.Identity
	said := buf[:0] // one sentence per file, not per worker
	for i, p := range s.Owners {
		if i > 0 && sameProgram(p, s.Owners[i-1]) {
			continue
		}
		id := p.Identity
		switch {
		case id == nil:
		case id.Proof == sockets.ProofModified && !contains(said, id):
			said = append(said, id)
			f.add(risk, CodeModifiedExe, "%s (pid %d) runs a file that differs from its package: %s. A replaced binary is how rootkits hide; reinstall the package and find out who changed it.", p.Name, p.PID, id.Reason)
		case id.Proof == sockets.ProofMounted && !contains(said, id):
			said = append(said, id)
			f.add(risk, CodeMountedExe, "%s (pid %d) runs %s in a mount namespace of its own, where that path leads to another file than this machine's: a file mounted over a daemon's path to borrow its name (%s).", p.Name, p.PID, p.Exe, id.Reason)
		case id.Proof == sockets.ProofUnowned && !contains(said, id):
			said = append(said, id)
			if name := claimedName(p); name != "" {
				f.add(risk, CodeUnownedExe, "%s (pid %d) bears the name of %s, but its executable %s is no package's (%s): a program in disguise until proven otherwise.", p.Name, p.PID, name, p.Exe, id.Reason)
			} else if where := droppedWhere(p.Exe); where != "" && !worldWritable(p.Exe) && isInterpreter(exeName(p)) {
				// pyenv, a virtualenv, a language built by hand: an
				// interpreter at home is common; what it runs is judged
				// by its command line (inline code, a shell).
				f.add(RiskLow, CodeUnpackagedExe, "%s (pid %d) is an interpreter that no package installed (%s, in %s: pyenv's, a virtualenv's, or built by hand). What it runs is named by its command line, not proven by a package.", exeName(p), p.PID, p.Exe, where)
			} else if where != "" && !worldWritable(p.Exe) {
				// Tunnels and implants (chisel, frp, a Go or Rust beacon) are
				// copied into a home or a web root: no package, no system path.
				f.add(RiskMedium, CodeUnpackagedExe, "%s (pid %d) runs %s, which no package installed, from %s: a program copied there by hand, the way tunnels and implants arrive. Find out who put it there.", exeName(p), p.PID, p.Exe, where)
			}
		}
		if claimed := renamedDaemon(p); claimed != "" {
			f.add(risk, CodeRenamedProcess, "%s (pid %d) calls itself %s, but it runs %s: a %s renamed to pass for %s in the process list, the way implants hide. %s", p.Name, p.PID, p.Name, p.Exe, toolKind(exeName(p)), claimed, p.Cmdline)
		}
		if kernelName(p) && p.Exe != "" {
			f.add(RiskHigh, CodeKernelName, "%s (pid %d) calls itself a kernel thread, but kernel threads have no executable and hold no sockets; this one runs %s: malware hiding in the process list.", p.Name, p.PID, p.Exe)
		}
		if tool := execWords(p); tool != "" {
			f.add(RiskHigh, CodeExecTool, "%s (pid %d) %s: whoever is at the other end of this socket gets a shell. %s", exeName(p), p.PID, tool, p.Cmdline)
		}
		if lang, code, ok := inlineCode(p); ok {
			r := risk
			if spawnsShell(code) {
				r = RiskHigh
			}
			f.add(r, CodeInlineCode, "%s (pid %d) runs inline %s code from its command line, not a script file: the way attackers run a one-line shell or implant. %s", exeName(p), p.PID, lang, p.Cmdline)
		}
	}
}

// identityNote says, on a listener, what the owner's executable was proven
// to be (the package and its version) or why it was not: the evidence a
// program's name rests on.
func identityNote(s *sockets.Socket, f *findings) {
	var buf [4]*sockets.Identity
	said := buf[:0]
	for _, p := range s.Owners {
		id := p.Identity
		if id == nil || contains(said, id) || id.Proof == sockets.ProofModified || id.Proof == sockets.ProofMounted || id.Proof == sockets.ProofUnowned && claimedName(p) != "" {
			continue // a disproof of a claim is a finding of its own
		}
		said = append(said, id)
		f.list = append(f.list, Finding{Severity: RiskInfo, Code: CodeIdentity, Text: identityText(exeName(p), id)})
	}
}

// identityTexts keeps the identity note of each proven file: every
// listener is judged every poll, and the sentence of a file's proof does
// not change. Bounded as pkgproof's own cache is.
var identityTexts = struct {
	sync.Mutex
	m map[identityKey]string
}{m: map[identityKey]string{}}

type identityKey struct {
	id   *sockets.Identity
	name string
}

func identityText(name string, id *sockets.Identity) string {
	k := identityKey{id, name}
	identityTexts.Lock()
	defer identityTexts.Unlock()
	if t, ok := identityTexts.m[k]; ok {
		return t
	}
	if len(identityTexts.m) >= 4096 {
		identityTexts.m = map[identityKey]string{} // the catalog's "clear" shadows the builtin here
	}
	t := "Identity of " + name + ": " + id.Reason + "."
	identityTexts.m[k] = t
	return t
}

func contains(ids []*sockets.Identity, id *sockets.Identity) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

func sameProgram(a, b *sockets.Process) bool { return a.Exe == b.Exe && a.Identity == b.Identity }

// claimedName is the well-known server program a process names itself
// after (by its executable's file name or its own name), or "".
func claimedName(p *sockets.Process) string {
	for _, name := range []string{exeName(p), p.Name} {
		if name == "" {
			continue
		}
		claimed := ""
		candidates(name, func(i int) bool {
			if len(programs[i].args) > 0 && isInterpreter(exeName(p)) {
				return true // named by what an interpreter runs, not by its file: no disguise
			}
			if len(programs[i].args) == 0 || programs[i].matches(p) {
				claimed = programs[i].name
				return false
			}
			return true
		})
		if claimed != "" {
			return claimed
		}
		if _, ok := forwarders[name]; ok {
			return name
		}
	}
	return ""
}

// kernelName: the process's name or command line is a kernel thread's
// ("kworker/0:1", "[kthreadd]").
func kernelName(p *sockets.Process) bool {
	for _, n := range []string{p.Name, strings.TrimSpace(p.Cmdline)} {
		if len(n) > 2 && n[0] == '[' && n[len(n)-1] == ']' {
			return true
		}
		for _, k := range kernelThreads {
			if strings.HasPrefix(n, k) {
				return true
			}
		}
	}
	return false
}

// kernelThreads are the prefixes of the kernel's own thread names that
// malware borrows most.
var kernelThreads = []string{"kworker/", "ksoftirqd/", "migration/", "kthreadd", "rcu_sched", "rcu_preempt", "kswapd", "watchdog/", "jbd2/", "irq/"}

// shells are the programs that read commands: one on a socket is a remote
// shell.
var shells = map[string]bool{"bash": true, "sh": true, "dash": true, "zsh": true, "ksh": true, "mksh": true, "ash": true,
	"busybox": true, "fish": true, "csh": true, "tcsh": true, "rbash": true}

// netcats are the programs that relay a socket to whatever they are told.
var netcats = map[string]bool{"nc": true, "ncat": true, "netcat": true, "nc.openbsd": true, "nc.traditional": true, "socat": true, "pwncat": true}

// execWords says how a netcat-like command line hands its socket to a
// program ("runs /bin/sh for the socket (-e)"), or "". The flags are
// recognised on any executable: a renamed ncat keeps its arguments.
func execWords(p *sockets.Process) string {
	// Most command lines have none of the words: said without splitting
	// them, as every listener is judged every poll.
	if !strings.Contains(p.Cmdline, " -") && !mayExec(p.Cmdline) {
		return ""
	}
	args := strings.Fields(p.Cmdline)
	if len(args) < 2 {
		return ""
	}
	nc := netcats[exeName(p)]
	for i, a := range args[1:] {
		next := ""
		if i+2 < len(args) {
			next = args[i+2]
		}
		switch {
		case a == "--sh-exec" || a == "--lua-exec" || strings.HasPrefix(a, "--sh-exec=") || strings.HasPrefix(a, "--lua-exec="):
			return "runs a program for the socket (" + a + ")"
		case (a == "-e" || a == "--exec" || a == "-c" && nc) && next != "" && (nc || shells[path.Base(next)]):
			return fmt.Sprintf("runs %s for the socket (%s)", next, a)
		case hasFoldPrefix(a, "exec:") || hasFoldPrefix(a, "system:"):
			return "runs a program for the socket (" + strings.SplitN(a, ",", 2)[0] + ")"
		}
	}
	return ""
}

// mayExec: the command line may hold socat's EXEC: or SYSTEM: address.
func mayExec(cmdline string) bool {
	for _, w := range []string{"exec:", "EXEC:", "Exec:", "system:", "SYSTEM:", "System:"} {
		if strings.Contains(cmdline, w) {
			return true
		}
	}
	return false
}

func hasFoldPrefix(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// inlineFlags are the interpreters' flags that take a program's text on
// the command line.
var inlineFlags = map[string][]string{"python": {"-c"}, "perl": {"-e", "-E"}, "ruby": {"-e"}, "node": {"-e", "--eval", "-p", "--print"},
	"nodejs": {"-e", "--eval"}, "php": {"-r"}, "lua": {"-e"}, "pwsh": {"-c", "-Command", "-EncodedCommand", "-e"}}

// inlineCode finds an interpreter running code given on its command line
// ("python3 -c ..."), and the code; shells are judged by what they hold.
func inlineCode(p *sockets.Process) (lang, code string, ok bool) {
	name := exeName(p)
	var flags []string
	for l, fl := range inlineFlags {
		if name == l || (strings.HasPrefix(name, l) && strings.Trim(name[len(l):], "0123456789.") == "") {
			lang, flags = l, fl
		}
	}
	if flags == nil {
		return "", "", false
	}
	args := strings.Fields(p.Cmdline)
	for i := 1; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") {
			return "", "", false // a script file comes first: its own arguments follow
		}
		for _, fl := range flags {
			// "-c", and combined short flags ending in it ("-uc").
			if a == fl || len(fl) == 2 && !strings.HasPrefix(a, "--") && strings.HasSuffix(a, fl[1:]) {
				return lang, strings.Join(args[i+1:], " "), true
			}
		}
	}
	return "", "", false
}

// spawnsShell: inline code that opens a shell or hands descriptors over.
func spawnsShell(code string) bool {
	for _, w := range []string{"pty", "dup2", "subprocess", "/bin/sh", "/bin/bash", "exec(", "system(", "popen", "child_process", "fsockopen"} {
		if strings.Contains(code, w) {
			return true
		}
	}
	return false
}

// droppedWhere says where an executable lies when that is a place a
// program copied by hand lands (a home, a web root, a hidden directory),
// or "".
func droppedWhere(exe string) string {
	switch {
	case strings.HasPrefix(exe, "/root/") || strings.HasPrefix(exe, "/home/"):
		return "a home directory"
	case strings.HasPrefix(exe, "/var/www/") || strings.HasPrefix(exe, "/srv/"):
		return "a web or service root"
	case strings.Contains(exe, "/."):
		return "a hidden directory"
	}
	return ""
}

// worldWritable: the file lies where processFindings already says so.
func worldWritable(exe string) bool {
	for _, dir := range worldWritableDirs {
		if strings.HasPrefix(exe, dir) {
			return true
		}
	}
	return false
}
