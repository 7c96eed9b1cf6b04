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
// baseline the monitor compares with, and the copies of this program its
// teaching servers run as (sshd, nginx, vsftpd), so that the monitor names
// each by its program, as it names the real ones (assess recognises a
// server by its executable's name), and not as an unknown listener or a
// service in disguise. It is not in /tmp where it can be helped: a program
// run from a world-writable directory is a finding of its own.
func labParent() string {
	if os.Geteuid() == 0 {
		if st, err := os.Stat("/run"); err == nil && st.IsDir() {
			return "/run"
		}
	}
	for _, d := range []string{os.Getenv("XDG_RUNTIME_DIR"), cacheDir()} {
		if d != "" && os.MkdirAll(d, 0o700) == nil {
			return d
		}
	}
	return os.TempDir()
}

func cacheDir() string {
	d, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return d
}

// The teaching servers' programs: the name assess knows each by.
const (
	progWeb = "nginx"  // steps 1-3 and 10: a web server
	progSSH = "sshd"   // step 10: remote administration
	progFTP = "vsftpd" // step 8: the FTP server
)

// writeFiles makes the scene's directory, its programs and its baseline.
func (s *scene) writeFiles() error {
	dir, err := os.MkdirTemp(labParent(), "portwatch-lab-")
	if err != nil {
		return fmt.Errorf("making the lab's directory: %w", err)
	}
	os.Chmod(dir, 0o755) // helpers of another user (none today) could run from it
	s.dir = dir
	// One copy (a hard link where the program's file system allows), and
	// links to it: a class of labs costs one binary each at most.
	first, err := copyProgram(dir, progWeb)
	if err != nil {
		return fmt.Errorf("copying portwatch as the lab's %s: %w", progWeb, err)
	}
	for _, name := range []string{progSSH, progFTP} {
		if os.Link(first, filepath.Join(dir, name)) == nil {
			continue
		}
		if _, err := copyProgram(dir, name); err != nil {
			return fmt.Errorf("copying portwatch as the lab's %s: %w", name, err)
		}
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

// program is the path of the lab's copy named name, or "" (this program).
func (s *scene) program(name string) string {
	if s.dir == "" {
		return ""
	}
	p := filepath.Join(s.dir, name)
	if _, err := os.Stat(p); err != nil {
		return ""
	}
	return p
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
		fmt.Fprintf(&b, "%s tcp * 21-443 * *\n", ns) // steps 8 and 10: ftp, ssh, telnet, http, https
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
