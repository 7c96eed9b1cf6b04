//go:build linux

package pkgproof

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// userRoot says why the root directory of process pid (which is not
// portwatch's) is a user's own rather than a container runtime's image, or
// "" where nothing says so. Any user may make one: `unshare -r` gives a
// user namespace and a mount namespace of their own, where chroot and
// pivot_root into a directory of theirs are allowed. Its files are that
// user's, so a daemon's path there proves nothing. A runtime run by root
// makes the user namespace as root (or uses this machine's), and the
// image's root belongs to root, or to the uid the namespace maps root to
// (docker's userns-remap, podman's --userns=auto).
func (c *Checker) userRoot(pid int32) string {
	dir := filepath.Join(c.procRoot, strconv.Itoa(int(pid)))
	owner, known := c.userNSOwner(dir)
	var root syscall.Stat_t
	rootKnown := syscall.Stat(filepath.Join(dir, "root"), &root) == nil
	switch {
	case known && owner != 0 && rootKnown && root.Uid == owner:
		return fmt.Sprintf("its root directory belongs to uid %d, who made the user namespace it runs in (unshare -r, a rootless container): a root of the user's own, whose files no package installed", owner)
	case known && owner != 0:
		return fmt.Sprintf("it runs with a root directory of its own in a user namespace that uid %d made (unshare -r, a rootless container), not root: a root of the user's own, whose files no package installed", owner)
	case rootKnown && root.Uid != 0 && !nsMapsRootTo(dir, root.Uid):
		return fmt.Sprintf("its root directory belongs to uid %d, not to root nor to its user namespace's root: a root of that user's own, whose files no package installed", root.Uid)
	}
	return ""
}

// userNSOwner is the uid that made process dir's user namespace (0 for
// this machine's own), and whether it could be read (not being root, other
// users' namespaces cannot be opened).
func (c *Checker) userNSOwner(dir string) (uint32, bool) {
	var self, other syscall.Stat_t
	if syscall.Stat(filepath.Join(c.procRoot, "self", "ns", "user"), &self) == nil &&
		syscall.Stat(filepath.Join(dir, "ns", "user"), &other) == nil && self.Dev == other.Dev && self.Ino == other.Ino {
		return 0, true
	}
	f, err := os.Open(filepath.Join(dir, "ns", "user"))
	if err != nil {
		return 0, false
	}
	defer f.Close()
	uid, err := unix.IoctlGetUint32(int(f.Fd()), unix.NS_GET_OWNER_UID)
	return uid, err == nil
}

// nsMapsRootTo reports whether process dir's user namespace maps its root
// (uid 0 inside) to uid here: a runtime's image owned by the container's
// root. uid_map is the kernel's text, at most a few hundred bytes; read
// bounded all the same.
func nsMapsRootTo(dir string, uid uint32) bool {
	f, err := os.Open(filepath.Join(dir, "uid_map"))
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(io.LimitReader(f, 64<<10))
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) != 3 {
			continue
		}
		inside, err1 := strconv.ParseUint(fields[0], 10, 32)
		outside, err2 := strconv.ParseUint(fields[1], 10, 32)
		if err1 == nil && err2 == nil && inside == 0 && uint32(outside) == uid {
			return true
		}
	}
	return false
}
