//go:build linux

// Package pkgproof proves who installed a process's executable: on dpkg
// systems the path is listed in /var/lib/dpkg/info/*.list and the running
// file's content matches the package's *.md5sums, with the version from
// /var/lib/dpkg/status; on rpm systems rpm's own command names the owner
// and the digest it recorded; where no package database can be read, a
// root-owned file in directories only root may write. It does I/O, so
// collect calls it; assess only judges the sockets.Identity it gives.
//
// A check is kept per executable (device, inode, mtime, size of the file
// /proc/PID/exe leads to, which is the file the process runs even when it
// was deleted or replaced), so a process costs one stat() when it is first
// seen, and a file is hashed once in its life.
package pkgproof

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"

	"github.com/portwatch/portwatch/sockets"
)

// maxProofs bounds the proofs kept: a machine runs a few hundred distinct
// executables; past the bound the cache is forgotten and filled again.
const maxProofs = 4096

// MaxHashBytes bounds the file a check reads to hash: a larger executable
// is named by its package but its content is not compared.
const MaxHashBytes = 512 << 20

// exeKey names one file's content as of one change: a replaced or
// rewritten file gets another key.
type exeKey struct {
	dev, ino uint64
	mtime    int64
	size     int64
}

// Checker proves executables, caching by file. Safe for concurrent use.
type Checker struct {
	procRoot string
	dpkgDir  string // /var/lib/dpkg
	rpmDir   string // /var/lib/rpm

	mu     sync.Mutex
	proofs map[exeKey]*sockets.Identity
	dpkg   *dpkgIndex // built at the first check that needs it
	// checks counts the checks that were not answered from the cache, and
	// hashes the files hashed (Stats).
	checks, hashes int
}

// Stats says how many checks were not answered from the cache, and how
// many files were hashed: what the cache saved, for tests and benchmarks.
func (c *Checker) Stats() (checks, hashes int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.checks, c.hashes
}

// New returns a Checker of this machine's processes and package databases.
func New() *Checker { return NewAt("/proc", "/var/lib/dpkg", "/var/lib/rpm") }

// NewAt returns a Checker reading processes under procRoot and the dpkg
// and rpm databases in the given directories (absent ones are not used).
func NewAt(procRoot, dpkgDir, rpmDir string) *Checker {
	return &Checker{procRoot: procRoot, dpkgDir: dpkgDir, rpmDir: rpmDir, proofs: map[exeKey]*sockets.Identity{}}
}

// containerExe is the identity of a process in another mount namespace:
// its path names a file of its own root (a container's image), which this
// machine's package database does not describe.
var containerExe = &sockets.Identity{Proof: sockets.ProofUnproven, Reason: "it runs in another mount namespace (a container): its files are the container's, not checked against this machine's packages"}

// otherMountNS reports whether process pid sees another file system than
// portwatch does (a container). One stat() per new process.
func (c *Checker) otherMountNS(pid int32) bool {
	var self, other syscall.Stat_t
	if syscall.Stat(filepath.Join(c.procRoot, "self", "ns", "mnt"), &self) != nil ||
		syscall.Stat(filepath.Join(c.procRoot, strconv.Itoa(int(pid)), "ns", "mnt"), &other) != nil {
		return false // not known: judged by the path as it reads
	}
	return self.Ino != other.Ino || self.Dev != other.Dev
}

// otherNamespaceFile judges the executable of a process in another mount
// namespace, whose path names a file of that namespace: nil when it is the
// very file (device and inode) the same path leads to here, so this
// machine's proof applies. A namespace on this machine's own root (no
// container image: `unshare --mount`) whose path leads elsewhere had a file
// mounted over it, which any user may do in a namespace of their own: that
// disproves the name. A container's own root is its image: unproven; a
// root of a user's own (userRoot) is no image, and its files no package's;
// nor is a path this machine does not have at all (unowned).
func (c *Checker) otherNamespaceFile(pid int32, exe string, running *syscall.Stat_t) *sockets.Identity {
	var here syscall.Stat_t
	absent := syscall.Stat(exe, &here) != nil
	if !absent && here.Dev == running.Dev && here.Ino == running.Ino {
		return nil
	}
	if !c.sameRoot(pid) {
		if why := c.userRoot(pid); why != "" {
			return &sockets.Identity{Proof: sockets.ProofUnowned, Reason: why}
		}
		return containerExe
	}
	if absent {
		// Nothing was mounted over anything of this machine's: a private
		// /run or /tmp of its own (a sandboxed service, a lab) holds a
		// file no package of this machine installed. A daemon's name on
		// it is a disguise (unowned-exe); another name is no claim.
		return &sockets.Identity{Proof: sockets.ProofUnowned, Reason: "it runs " + exe +
			" in a mount namespace of its own, a path this machine does not have: no package installed it"}
	}
	return &sockets.Identity{Proof: sockets.ProofMounted, Reason: "it runs in a mount namespace of its own where " + exe +
		" is another file than this machine's " + exe + " (a file mounted over that path): its name and path prove nothing"}
}

// sameRoot reports whether process pid's root directory is portwatch's:
// a container runtime gives its processes the image's root instead.
func (c *Checker) sameRoot(pid int32) bool {
	var self, other syscall.Stat_t
	if syscall.Stat(filepath.Join(c.procRoot, "self", "root"), &self) != nil ||
		syscall.Stat(filepath.Join(c.procRoot, strconv.Itoa(int(pid)), "root"), &other) != nil {
		return false
	}
	return self.Dev == other.Dev && self.Ino == other.Ino
}

var unreadableExe = &sockets.Identity{Proof: sockets.ProofUnproven, Reason: "the executable cannot be read (another user's process, not being root): identity unproven, the process's name stands in"}

// Check proves the executable of process pid, whose path is exe (as
// /proc/PID/exe names it, without " (deleted)"). deleted says the path no
// longer leads to the file the process runs.
func (c *Checker) Check(pid int32, exe string, deleted bool) *sockets.Identity {
	if exe == "" {
		return unreadableExe
	}
	link := filepath.Join(c.procRoot, strconv.Itoa(int(pid)), "exe")
	var st syscall.Stat_t
	if err := syscall.Stat(link, &st); err != nil {
		return &sockets.Identity{Proof: sockets.ProofUnproven, Reason: "the executable cannot be read: " + reasonOf(err)}
	}
	// A deleted file leads nowhere in any namespace: it is judged as
	// deleted, not as another file at the path.
	if !deleted && c.otherMountNS(pid) {
		if id := c.otherNamespaceFile(pid, exe, &st); id != nil {
			return id
		}
		// The same file as this machine's at that path: proven as here.
	}
	key := exeKey{uint64(st.Dev), st.Ino, st.Mtim.Nano(), st.Size}
	c.mu.Lock()
	defer c.mu.Unlock()
	if id, ok := c.proofs[key]; ok && !c.dpkgChanged() {
		return id
	}
	c.checks++
	id := c.prove(link, exe, deleted, &st)
	if len(c.proofs) >= maxProofs {
		clear(c.proofs)
	}
	c.proofs[key] = id
	return id
}

// dpkgChanged reports whether dpkg's status changed since the index was
// built (a package installed, upgraded or removed): every proof is then
// forgotten with the index. One stat() per check that hits the cache is
// the price; a check is made once per new process, not per poll.
func (c *Checker) dpkgChanged() bool {
	if c.dpkg == nil {
		return false
	}
	st, err := os.Stat(filepath.Join(c.dpkgDir, "status"))
	if err == nil && st.ModTime().Equal(c.dpkg.stamp) {
		return false
	}
	c.dpkg = nil
	clear(c.proofs)
	return true
}

// prove decides an executable's identity; the lock is held.
func (c *Checker) prove(link, exe string, deleted bool, st *syscall.Stat_t) *sockets.Identity {
	if ix := c.dpkgIndex(); ix != nil {
		return c.proveDpkg(ix, link, exe, deleted, st)
	}
	if ix := c.dpkgIndexError(); ix != "" {
		return &sockets.Identity{Proof: sockets.ProofUnproven, Manager: "dpkg", Reason: ix}
	}
	if _, err := os.Stat(c.rpmDir); err == nil {
		return c.proveRpm(link, exe, deleted, st)
	}
	return systemPath(exe, st)
}

// proveDpkg checks the path against the dpkg index and the package's
// recorded checksum.
func (c *Checker) proveDpkg(ix *dpkgIndex, link, exe string, deleted bool, st *syscall.Stat_t) *sockets.Identity {
	pkg, path := ix.owner(exe)
	if pkg == nil {
		return &sockets.Identity{Proof: sockets.ProofUnowned, Manager: "dpkg", Reason: "no installed package lists " + exe + " (dpkg)"}
	}
	id := &sockets.Identity{Manager: "dpkg", Package: pkg.name, Version: pkg.version}
	want, ok := readMD5(filepath.Join(c.dpkgDir, "info", pkg.file+".md5sums"), path)
	if !ok {
		id.Proof, id.Reason = sockets.ProofListed, pkg.words()+" lists "+exe+" but records no checksum for it: the content was not compared"
		return id
	}
	if st.Size > MaxHashBytes {
		id.Proof, id.Reason = sockets.ProofListed, fmt.Sprintf("%s lists %s; at %d MiB it is too large to hash, so the content was not compared", pkg.words(), exe, st.Size>>20)
		return id
	}
	got, err := md5File(link)
	c.hashes++
	switch {
	case err != nil:
		id.Proof, id.Reason = sockets.ProofUnproven, pkg.words()+" lists "+exe+", but the running file could not be read to compare it: "+reasonOf(err)
	case got == want:
		id.Proof, id.Reason = sockets.ProofPackage, "installed by "+pkg.words()+": dpkg lists "+exe+" and the running file matches its checksum"
	case deleted:
		id.Proof, id.Reason = sockets.ProofUnproven, "the running file was deleted or replaced since the process started (an upgrade not restarted?) and differs from what "+pkg.words()+" installs now"
	default:
		id.Proof, id.Reason = sockets.ProofModified, fmt.Sprintf("%s lists %s, but the running file differs from what it installed (md5 %s, the package's %s)", pkg.words(), exe, got, want)
	}
	return id
}

// reasonOf is the system's word for an error, without the path.
func reasonOf(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return errno.Error()
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

var (
	system     *Checker
	systemOnce sync.Once
)

// System is the Checker of this machine (/proc, /var/lib/dpkg,
// /var/lib/rpm), made once and shared by every collector of the process:
// the package index is built once, whatever number of sources a program
// (or a test) makes.
func System() *Checker {
	systemOnce.Do(func() { system = New() })
	return system
}
