package assess

import (
	"strings"

	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/reach"
)

// fileServerFinding names an interpreter's one-line file server on a
// listener (python3 -m http.server, php -S, ruby -run -e httpd, busybox
// httpd): every file below its working directory, to anyone who reaches
// the port, with no password. It is how files are carried off a machine
// and tools onto the next one. As root, beyond loopback, that may be the
// whole file system (/etc/shadow, the host's keys): HIGH.
func fileServerFinding(s *sockets.Socket, fw reach.Verdict, f *findings) {
	for _, p := range s.Owners {
		what := fileServer(p)
		if what == "" {
			continue
		}
		// One step down on loopback, one up as root: what is served, and
		// to whom.
		r, whose := RiskMedium, "its user's"
		if p.UID == 0 {
			r, whose = RiskHigh, "root's, so possibly the whole file system's (/etc/shadow, the machine's keys)"
		}
		if !beyondLoopback(s, fw) {
			r--
		}
		f.add(r, CodeFileServer, "%s (pid %d) is %s: it hands out every file below its working directory, readable with %s rights, to whoever reaches port %d, with no password. That is how files leave a machine and tools reach the next one. %s",
			exeName(p), p.PID, what, whose, s.LPort, p.Cmdline)
		return
	}
}

// fileServer says which one-line file server a process runs, or "".
func fileServer(p *sockets.Process) string {
	name := exeName(p)
	args := strings.Fields(p.Cmdline)
	has := func(words ...string) bool {
		for i := 1; i+len(words) <= len(args); i++ {
			if strings.Join(args[i:i+len(words)], " ") == strings.Join(words, " ") {
				return true
			}
		}
		return false
	}
	switch {
	case strings.HasPrefix(name, "python") && (has("-m", "http.server") || has("-m", "SimpleHTTPServer") || has("-m", "uploadserver")):
		return "Python's ad-hoc file server (-m http.server)"
	case strings.HasPrefix(name, "php") && (has("-S") || len(args) > 1 && strings.HasPrefix(args[1], "-S")):
		return "PHP's built-in web server (php -S), serving and running the files"
	case strings.HasPrefix(name, "ruby") && (has("-run", "-e", "httpd") || has("-run", "-ehttpd")):
		return "Ruby's one-line file server (ruby -run -e httpd)"
	case name == "busybox" && has("httpd"):
		return "busybox's httpd"
	}
	return ""
}
