//go:build linux

package pkgproof

import (
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"hash"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/clean"
)

// rpmTimeout bounds one question to rpm: a locked or broken database must
// not hold a poll.
const rpmTimeout = 5 * time.Second

// proveRpm asks rpm which package owns exe and the digest it recorded for
// it. portwatch does not parse rpm's database itself (BerkeleyDB, NDB or
// SQLite by release): it asks rpm's own command, once per file. Where rpm
// cannot be asked it says so and falls back to the system-path check.
func (c *Checker) proveRpm(link, exe string, deleted bool, st *syscall.Stat_t) *sockets.Identity {
	bin, err := exec.LookPath("rpm")
	if err != nil {
		return c.rpmUnread(exe, st, "rpm's database is here but the rpm command is not")
	}
	out, err := c.rpm(bin, "-qf", "--qf", "%{NAME}\t%|EPOCH?{%{EPOCH}:}:{}|%{VERSION}-%{RELEASE}\n", "--", exe)
	if err != nil {
		if strings.Contains(out, "not owned by any package") {
			return &sockets.Identity{Proof: sockets.ProofUnowned, Manager: "rpm", Reason: "no installed package owns " + exe + " (rpm)"}
		}
		return c.rpmUnread(exe, st, "rpm could not be asked ("+firstLine(out, err)+")")
	}
	line, _, _ := strings.Cut(strings.TrimSpace(out), "\n") // cleaned field by field: a tab is a control character
	name, version, _ := strings.Cut(line, "\t")
	id := &sockets.Identity{Manager: "rpm", Package: clean.Text(name), Version: clean.Text(version)}
	words := id.PackageWords()
	files, err := c.rpm(bin, "-q", "--qf", "[%{FILENAMES}\t%{FILEDIGESTS}\n]algo\t%{FILEDIGESTALGO}\n", "--", name)
	want, algo := "", ""
	for _, line := range strings.Split(files, "\n") {
		path, digest, ok := strings.Cut(line, "\t")
		switch {
		case !ok:
		case path == "algo":
			algo = digest
		case want == "" && samePathForms(path, exe):
			want = digest
		}
	}
	h := digestOf(algo)
	switch {
	case err != nil || want == "" || h == nil:
		id.Proof, id.Reason = sockets.ProofListed, words+" owns "+exe+" but rpm gave no checksum portwatch can compare"
		return id
	case st.Size > MaxHashBytes:
		id.Proof, id.Reason = sockets.ProofListed, words+" owns "+exe+"; it is too large to hash, so the content was not compared"
		return id
	}
	got, err := hashFile(link, h)
	c.hashes++
	switch {
	case err != nil:
		id.Proof, id.Reason = sockets.ProofUnproven, words+" owns "+exe+", but the running file could not be read to compare it: "+reasonOf(err)
	case got == want:
		id.Proof, id.Reason = sockets.ProofPackage, "installed by "+words+": rpm owns "+exe+" and the running file matches its digest"
	case deleted:
		id.Proof, id.Reason = sockets.ProofUnproven, "the running file was deleted or replaced since the process started (an upgrade not restarted?) and differs from what "+words+" installs now"
	default:
		id.Proof, id.Reason = sockets.ProofModified, words+" owns "+exe+", but the running file differs from what it installed (digest "+got+", the package's "+want+")"
	}
	return id
}

// rpmUnread is the fallback where rpm could not be asked: what the file
// system proves, with why rpm was not read.
func (c *Checker) rpmUnread(exe string, st *syscall.Stat_t, why string) *sockets.Identity {
	id := systemPath(exe, st)
	id.Manager = "rpm"
	id.Reason = why + ": " + id.Reason
	return id
}

// rpm runs one query against the checker's database, bounded in time.
func (c *Checker) rpm(bin string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), rpmTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append([]string{"--dbpath", c.rpmDir}, args...)...)
	cmd.Env = []string{"LC_ALL=C", "PATH=/usr/bin:/bin"}
	out, err := cmd.CombinedOutput()
	if len(out) > 1<<20 {
		out = out[:1<<20]
	}
	return string(out), err
}

func firstLine(out string, err error) string {
	line, _, _ := strings.Cut(strings.TrimSpace(out), "\n")
	if line == "" && err != nil {
		return err.Error()
	}
	return clean.Text(line)
}

// digestOf is the hash of rpm's digest algorithm number (RFC 4880's:
// 1 MD5, 2 SHA-1, 8 SHA-256, 9 SHA-384, 10 SHA-512).
func digestOf(algo string) func() hash.Hash {
	switch strings.TrimSpace(algo) {
	case "1":
		return md5.New
	case "2":
		return sha1.New
	case "8":
		return sha256.New
	case "9":
		return sha512.New384
	case "10":
		return sha512.New
	}
	return nil
}

func hashFile(link string, h func() hash.Hash) (string, error) {
	f, err := os.Open(link)
	if err != nil {
		return "", err
	}
	defer f.Close()
	w := h()
	if _, err := io.Copy(w, io.LimitReader(f, MaxHashBytes)); err != nil {
		return "", err
	}
	return hex.EncodeToString(w.Sum(nil)), nil
}

// samePathForms reports whether a package's listed path and the running
// file's path name one file on a merged-/usr system: rpm finds the owner
// under either form, but lists the file only under the one it installed.
func samePathForms(listed, exe string) bool {
	for _, alias := range aliases(exe) {
		if listed == alias {
			return true
		}
	}
	return false
}
