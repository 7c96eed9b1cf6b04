//go:build linux

package pkgproof

import (
	"fmt"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/portwatch/portwatch/sockets"
)

// systemDirs are where a system's programs live; a file elsewhere (a home,
// /tmp, /srv) is not a system path whoever owns it.
var systemDirs = []string{"/usr/", "/bin/", "/sbin/", "/lib/", "/lib64/", "/opt/"}

// systemPath is the proof where no package database can be read: the file
// and every directory above it owned by root and writable by root alone.
// That is all it proves, and the reason says so.
func systemPath(exe string, st *syscall.Stat_t) *sockets.Identity {
	inSystem := false
	for _, d := range systemDirs {
		inSystem = inSystem || strings.HasPrefix(exe, d)
	}
	if !inSystem {
		return &sockets.Identity{Proof: sockets.ProofUnowned, Reason: "no package database to check it against, and " + exe + " is not in a system directory"}
	}
	if why := rootOnly(exe, st); why != "" {
		return &sockets.Identity{Proof: sockets.ProofUnowned, Reason: "no package database to check it against, and " + why}
	}
	return &sockets.Identity{Proof: sockets.ProofSystemPath, Reason: "no package database to check it against: all that is proven is that " + exe + " and its directories are owned by root and writable by root alone"}
}

// rootOnly says why a file or a directory above it may be changed by
// someone other than root, or "".
func rootOnly(exe string, st *syscall.Stat_t) string {
	if why := notRootOnly(exe, st); why != "" {
		return why
	}
	for dir := filepath.Dir(exe); ; dir = filepath.Dir(dir) {
		var ds syscall.Stat_t
		if err := syscall.Stat(dir, &ds); err != nil {
			return dir + " cannot be read: " + reasonOf(err)
		}
		if why := notRootOnly(dir, &ds); why != "" {
			return why
		}
		if dir == "/" {
			return ""
		}
	}
}

func notRootOnly(path string, st *syscall.Stat_t) string {
	switch {
	case st.Uid != 0:
		return fmt.Sprintf("%s is owned by uid %d, not root", path, st.Uid)
	case st.Mode&0o002 != 0:
		return path + " is writable by everyone"
	case st.Mode&0o020 != 0 && st.Gid != 0:
		return fmt.Sprintf("%s is writable by group %d", path, st.Gid)
	}
	return ""
}
