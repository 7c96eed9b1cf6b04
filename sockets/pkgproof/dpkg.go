//go:build linux

package pkgproof

import (
	"bufio"
	"bytes"
	"hash/fnv"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/portwatch/portwatch/sockets/clean"
)

// maxIndexed bounds the paths the dpkg index holds (a full Debian desktop
// lists about a million files, a server a tenth of that, most of them
// under /usr/share, which is not indexed): past it the index says it is
// incomplete rather than grow.
const maxIndexed = 1 << 20

// skipped are the trees of the .list files that hold no executables: they
// are most of the lines and are not indexed.
var skipped = []string{"/usr/share/", "/usr/include/", "/usr/src/", "/etc/", "/var/", "/usr/lib/python3/dist-packages/"}

// dpkgPackage is one installed package: its .list file's base name
// ("libc6:amd64"), its name and version.
type dpkgPackage struct {
	file, name, version string
}

func (p *dpkgPackage) words() string {
	if p.version == "" {
		return p.name
	}
	return p.name + " " + p.version
}

// maxPackages bounds the installed packages the index names (a package is
// a uint16 beside each path); a real system has a few thousand.
const maxPackages = 1 << 16

// dpkgIndex maps an installed path to its package. Paths are kept as 64-bit
// hashes (FNV-1a), not strings, in one sorted array, with each one's
// package beside it: 10 bytes a path, where a map of them took 24 (1.25
// MiB for this machine's 53,000 paths). A directory is not indexed: no
// process runs one. A collision could only name a wrong package, whose
// checksum the file then fails: never a false proof.
type dpkgIndex struct {
	stamp    time.Time // dpkg's status file's mtime when built
	hashes   []uint64  // the paths' hashes, sorted, each once
	pkgs     []uint16  // pkgs[i] is the package that lists hashes[i] (the first one listed)
	packages []dpkgPackage
	err      string // why the index could not be built
}

// indexEntries are the paths of the .list files while the index is built,
// in two arrays as the index keeps them (10 bytes a line, grown by
// doubling: a struct of the two took 16).
type indexEntries struct {
	hashes []uint64
	pkgs   []uint16
}

func (e *indexEntries) Len() int { return len(e.hashes) }
func (e *indexEntries) Less(i, j int) bool {
	return e.hashes[i] < e.hashes[j] || (e.hashes[i] == e.hashes[j] && e.pkgs[i] < e.pkgs[j])
}
func (e *indexEntries) Swap(i, j int) {
	e.hashes[i], e.hashes[j] = e.hashes[j], e.hashes[i]
	e.pkgs[i], e.pkgs[j] = e.pkgs[j], e.pkgs[i]
}

func (e *indexEntries) truncate(n int) { e.hashes, e.pkgs = e.hashes[:n], e.pkgs[:n] }

// dpkgIndex builds the index at the first check that needs one, or when
// dpkg's status changed; nil where the machine has no dpkg database.
func (c *Checker) dpkgIndex() *dpkgIndex {
	if c.dpkg != nil {
		if c.dpkg.err != "" {
			return nil
		}
		return c.dpkg
	}
	status := filepath.Join(c.dpkgDir, "status")
	st, err := os.Stat(status)
	if err != nil {
		return nil
	}
	c.dpkg = buildDpkgIndex(c.dpkgDir, st.ModTime())
	if c.dpkg.err != "" {
		return nil
	}
	return c.dpkg
}

// dpkgIndexError says why a dpkg database that exists could not be
// indexed, or "".
func (c *Checker) dpkgIndexError() string {
	if c.dpkg == nil {
		return ""
	}
	return c.dpkg.err
}

func buildDpkgIndex(dir string, stamp time.Time) *dpkgIndex {
	ix := &dpkgIndex{stamp: stamp}
	versions, err := readStatus(filepath.Join(dir, "status"))
	if err != nil {
		ix.err = "dpkg's status could not be read: " + reasonOf(err)
		return ix
	}
	lists, err := filepath.Glob(filepath.Join(dir, "info", "*.list"))
	if err != nil || len(lists) == 0 {
		ix.err = "dpkg lists no package files in " + filepath.Join(dir, "info")
		return ix
	}
	entries := &indexEntries{}
	buf := make([]byte, 0, 4096) // one scanner's buffer for every list
	for _, list := range lists {
		file := strings.TrimSuffix(filepath.Base(list), ".list")
		name, _, _ := strings.Cut(file, ":")
		ver, installed := versions[file]
		if !installed {
			ver, installed = versions[name]
		}
		if !installed {
			continue // removed, its configuration kept: it installs no files
		}
		if len(ix.packages) >= maxPackages {
			ix.err = "dpkg lists more packages than portwatch indexes"
			return ix
		}
		n := uint16(len(ix.packages))
		// Names and versions are shown: cleaned where they enter, as all
		// text read from the machine is.
		ix.packages = append(ix.packages, dpkgPackage{file: file, name: clean.Text(name), version: clean.Text(ver)})
		var full bool
		if buf, full = addList(entries, buf, list, n); full {
			ix.err = "dpkg's file lists are larger than portwatch indexes"
			return ix
		}
	}
	if !ix.seal(entries) {
		ix.err = "dpkg's file lists are larger than portwatch indexes"
	}
	return ix
}

// addList appends one package's paths to entries (read with buf, which
// it returns); full says the lists hold too many lines. A directory,
// listed before what it holds, is left out.
func addList(entries *indexEntries, buf []byte, list string, pkg uint16) ([]byte, bool) {
	f, err := os.Open(list)
	if err != nil {
		return buf, false // one unreadable list: its files are unowned, said so per file
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(buf, 64<<10)
	var last []byte // the last line kept: a directory if this one is inside it
	lastAt := -1
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) < 2 || line[0] != '/' {
			continue
		}
		if lastAt >= 0 && len(line) > len(last) && line[len(last)] == '/' && bytes.HasPrefix(line, last) {
			entries.truncate(lastAt) // the last one was a directory
			lastAt = -1
		}
		if skippedPath(line) {
			continue
		}
		// Lines, with directories and the paths several packages list: a
		// bound on the work before the paths are counted once each.
		if entries.Len() >= 2*maxIndexed {
			return buf, true
		}
		lastAt = entries.Len()
		entries.hashes = append(entries.hashes, hashPath(line))
		entries.pkgs = append(entries.pkgs, pkg)
		last = append(last[:0], line...)
	}
	return buf, false
}

// seal sorts the paths into the index, each once with the first package
// that listed it; false when they are more than maxIndexed.
func (ix *dpkgIndex) seal(entries *indexEntries) bool {
	sort.Sort(entries)
	n := 0 // the paths kept, each with its first package (the lowest: the first list)
	for i, h := range entries.hashes {
		if i > 0 && h == entries.hashes[i-1] {
			continue
		}
		entries.hashes[n], entries.pkgs[n] = h, entries.pkgs[i]
		n++
	}
	if n > maxIndexed {
		return false
	}
	// Copied to arrays of their size: the build's are up to twice as long.
	ix.hashes, ix.pkgs = make([]uint64, n), make([]uint16, n)
	copy(ix.hashes, entries.hashes)
	copy(ix.pkgs, entries.pkgs)
	return true
}

func skippedPath(line []byte) bool {
	for _, s := range skipped {
		if bytes.HasPrefix(line, []byte(s)) {
			return true
		}
	}
	return false
}

func hashPath(p []byte) uint64 {
	h := fnv.New64a()
	h.Write(p)
	return h.Sum64()
}

// owner finds the package that lists exe, and the path as it lists it:
// with merged /usr, /bin/sh and /usr/bin/sh are one file, and a package
// may list either.
func (ix *dpkgIndex) owner(exe string) (*dpkgPackage, string) {
	for _, p := range aliases(exe) {
		if i, ok := slices.BinarySearch(ix.hashes, hashPath([]byte(p))); ok {
			return &ix.packages[ix.pkgs[i]], p
		}
	}
	return nil, ""
}

// aliases are the paths one file may be listed under on a merged-/usr
// system: /usr/bin/x and /bin/x, /usr/sbin/x and /sbin/x, /usr/lib/x and
// /lib/x.
func aliases(exe string) []string {
	out := []string{exe}
	for _, top := range []string{"/bin/", "/sbin/", "/lib/", "/lib64/", "/lib32/", "/libx32/"} {
		if rest, ok := strings.CutPrefix(exe, "/usr"+top); ok {
			return append(out, top+rest)
		}
		if rest, ok := strings.CutPrefix(exe, top); ok {
			return append(out, "/usr"+top+rest)
		}
	}
	return out
}

// readStatus reads the installed packages' versions from dpkg's status
// file, by "name" and by "name:arch" (the .list files of Multi-Arch: same
// packages carry the architecture).
func readStatus(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]string{}
	var name, arch, version string
	installed := false
	flush := func() {
		if name != "" && installed {
			out[name] = version
			if arch != "" {
				out[name+":"+arch] = version
			}
		}
		name, arch, version, installed = "", "", "", false
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	// Lines are read as bytes, and only the three values kept made strings:
	// the status file is most of a megabyte of descriptions, which became
	// a string a line.
	value := func(line []byte, key string) (string, bool) {
		if !bytes.HasPrefix(line, []byte(key)) {
			return "", false
		}
		return string(bytes.TrimSpace(line[len(key):])), true
	}
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) == 0 {
			flush()
			continue
		}
		switch line[0] {
		case 'P':
			if v, ok := value(line, "Package: "); ok {
				name = v
			}
		case 'A':
			if v, ok := value(line, "Architecture: "); ok {
				arch = v
			}
		case 'V':
			if v, ok := value(line, "Version: "); ok {
				version = v
			}
		case 'S':
			if bytes.HasPrefix(line, []byte("Status: ")) {
				installed = bytes.HasSuffix(line, []byte(" installed"))
			}
		}
	}
	flush()
	return out, sc.Err()
}

// readMD5 finds the checksum a package's md5sums file records for path
// (listed there without its leading slash).
func readMD5(md5sums, path string) (string, bool) {
	f, err := os.Open(md5sums)
	if err != nil {
		return "", false
	}
	defer f.Close()
	want := strings.TrimPrefix(path, "/")
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 4096), 64<<10)
	for sc.Scan() {
		sum, file, ok := strings.Cut(sc.Text(), "  ")
		if ok && file == want && len(sum) == 32 {
			return sum, true
		}
	}
	return "", false
}
