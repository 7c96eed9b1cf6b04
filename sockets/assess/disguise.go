package assess

import (
	"path"
	"strings"

	"github.com/portwatch/portwatch/sockets"
)

// renamedDaemon is the well-known daemon a generic tool (an interpreter, a
// shell, a netcat) calls itself by renaming its process (prctl
// PR_SET_NAME, Python's setproctitle, Perl's $0): "python3.11" named
// "sshd". That is how implants hide among a server's processes. A script
// started by its own file name is not renamed: the kernel names the
// process after the script ("/usr/bin/python3 /usr/bin/fail2ban-server"
// is fail2ban-server), so a name that is one of the first arguments'
// base names is no disguise. "" where the name claims no daemon.
func renamedDaemon(p *sockets.Process) string {
	exe := exeName(p)
	if p.Name == "" || p.Exe == "" || p.Name == exe || !(isInterpreter(exe) || shells[exe] || netcats[exe]) {
		return ""
	}
	args := strings.Fields(p.Cmdline)
	for i := 0; i < len(args) && i < 4; i++ {
		base := path.Base(args[i])
		// The kernel keeps 15 bytes of a name.
		if base == p.Name || len(p.Name) == 15 && strings.HasPrefix(base, p.Name) {
			return ""
		}
	}
	return claimedName(&sockets.Process{Name: p.Name})
}

// toolKind names what a generic tool is, for the finding's words.
func toolKind(exe string) string {
	switch {
	case shells[exe]:
		return "shell"
	case netcats[exe]:
		return "netcat"
	}
	return "interpreter"
}
