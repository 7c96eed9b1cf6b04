//go:build linux

package lab

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/safefile"
)

// The scene's own directory holds what it writes for itself: the
// baseline the monitor compares with, and the copy of this program its
// helpers run as. A program's file is evidence to the monitor: one run
// from /tmp, from a hidden directory or from a home is a finding of its
// own (a dropped tool, an implant copied by hand), and a teaching server
// run from there would look as suspicious as the backdoor. So the
// directory goes in /run where it can (root's; in a user namespace of the
// lab's own, a private /run: netns.go), and the helpers run from the copy
// in it only where that place is itself above suspicion (helperProgram).
func labParents() []string {
	var dirs []string
	if os.Geteuid() == 0 {
		dirs = append(dirs, "/run")
	}
	for _, d := range []string{os.Getenv("XDG_RUNTIME_DIR"), cacheDir()} {
		if d != "" && os.MkdirAll(d, 0o700) == nil {
			dirs = append(dirs, d)
		}
	}
	return append(dirs, os.TempDir())
}

func cacheDir() string {
	d, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return d
}

// The teaching servers' names: what a student would run, prefixed lab-
// so that no catalog takes the name for the daemon's. A daemon's name on a
// file no package installed is a disguise, and the monitor says so, HIGH:
// the lab's servers are named by their ports, as a real analyst names
// them, and only the backdoor borrows a name.
const (
	progWeb = "lab-nginx"  // steps 1-3, 5 and 10: a web server
	progSSH = "lab-sshd"   // step 10: remote administration
	progFTP = "lab-vsftpd" // step 8: the FTP server
)

// helperCopy is the name of the copy of this program the helpers run.
const helperCopy = "portwatch-lab"

// writeFiles makes the scene's directory, its program and its baseline.
func (s *scene) writeFiles() error {
	var dir string
	var err error
	for _, parent := range labParents() {
		if dir, err = os.MkdirTemp(parent, "portwatch-lab-"); err == nil {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("making the lab's directory: %w", err)
	}
	os.Chmod(dir, 0o755)
	s.dir = dir
	if aboveSuspicion(dir) {
		// One copy (a hard link where the file system allows): a class of
		// labs costs one binary each at most.
		exe, err := copyProgram(dir, helperCopy)
		if err != nil {
			return fmt.Errorf("copying portwatch for the lab's helpers: %w", err)
		}
		s.helperExe = exe
	}
	s.baseline = filepath.Join(dir, "baseline")
	if err := safefile.WriteAtomic(s.baseline, 0o644, func(w io.Writer) error {
		_, err := io.WriteString(w, s.baselineText())
		return err
	}); err != nil {
		return fmt.Errorf("writing the lab's baseline: %w", err)
	}
	return nil
}

// aboveSuspicion: a program run from dir raises no finding of its place
// (the monitor's words: world-writable, a home, a hidden directory, a web
// root). Elsewhere the helpers run this program where it is: whatever
// the monitor says of that place, it says of portwatch itself.
func aboveSuspicion(dir string) bool {
	for _, p := range []string{"/tmp/", "/var/tmp/", "/dev/shm/", "/root/", "/home/", "/srv/", "/var/www/"} {
		if strings.HasPrefix(dir+"/", p) {
			return false
		}
	}
	return !strings.Contains(dir, "/.")
}

// baselineText is the lab's baseline: every port a teaching server
// listens on is expected, whatever program holds it, and the backdoor's
// is not, so that the backdoor alone is UNEXPECTED. An entry answered by
// no listener yet (a later step's) reads MISSING until its step.
func (s *scene) baselineText() string {
	ns := sockets.HostNetns
	if s.netns {
		ns = NetnsLabel
	}
	var b strings.Builder
	b.WriteString("# portwatch lab's own baseline: the teaching servers are expected, the backdoor is not.\n")
	b.WriteString("# netns proto address port program user\n")
	if s.privileged {
		// Steps 8 and 10. The stand-ins for vsftpd and sshd are named: on
		// 21 and 22 any other program is "a service in disguise?", and
		// the lab's baseline answers that it belongs (expected-program).
		fmt.Fprintf(&b, "%s tcp * 21 %s *\n", ns, progFTP)
		fmt.Fprintf(&b, "%s tcp * 22 %s *\n", ns, progSSH)
		fmt.Fprintf(&b, "%s tcp * 23-443 * *\n", ns) // telnet, http, https
		fmt.Fprintf(&b, "%s tcp * %d * *\n", ns, portTLSRoot)
	}
	// The block, but for its last port: the backdoor's where 4444 is taken.
	fmt.Fprintf(&b, "%s tcp * %d-%d * *\n", ns, s.base, s.base+backdoorFallback-1)
	return b.String()
}

// BaselinePath is the baseline the scene wrote; see Scene.
func (s *scene) BaselinePath() string { return s.baseline }

// release gives back the block of ports and removes the scene's directory.
func (s *scene) release() {
	if s.lock >= 0 {
		closeFD(s.lock)
		s.lock = -1
	}
	if s.dir != "" {
		os.RemoveAll(s.dir)
		s.dir = ""
	}
}
