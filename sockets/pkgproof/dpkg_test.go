//go:build linux

package pkgproof

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// The index keeps each listed path once, as a hash in one sorted array
// with its package beside it (10 bytes a path: a map of them took 24),
// with the first package that lists it; a directory, listed before what it
// holds, is not kept (no process runs one), nor the trees that hold no
// executables.
func TestDpkgIndexIsCompact(t *testing.T) {
	d := t.TempDir()
	must(t, os.MkdirAll(filepath.Join(d, "info"), 0o755))
	status := "Package: alpha\nStatus: install ok installed\nVersion: 1\n\n" +
		"Package: beta\nStatus: install ok installed\nArchitecture: amd64\nVersion: 2\n\n" +
		"Package: gone\nStatus: deinstall ok config-files\nVersion: 3\n\n"
	must(t, os.WriteFile(filepath.Join(d, "status"), []byte(status), 0o644))
	lists := map[string]string{
		"alpha":       "/.\n/usr\n/usr/bin\n/usr/bin/x\n/usr/share\n/usr/share/doc/alpha\n/usr/lib/empty\n",
		"beta:amd64":  "/usr\n/usr/bin\n/usr/bin/x\n/usr/bin/y\n/usr/sbin/z\n",
		"gone":        "/usr/bin/gone\n",
		"not-a-list!": "/usr/bin/w\n",
	}
	for name, text := range lists {
		must(t, os.WriteFile(filepath.Join(d, "info", name+".list"), []byte(text), 0o644))
	}
	ix := buildDpkgIndex(d, time.Time{})
	if ix.err != "" {
		t.Fatal(ix.err)
	}
	for path, want := range map[string]string{
		"/usr/bin/x": "alpha", "/bin/x": "alpha", "/usr/bin/y": "beta", "/usr/sbin/z": "beta", "/usr/lib/empty": "alpha",
		"/usr/bin": "", "/usr": "", "/usr/share/doc/alpha": "", "/usr/bin/gone": "", "/usr/bin/w": "", "/usr/bin/q": "",
	} {
		got := ""
		if p, _ := ix.owner(path); p != nil {
			got = p.name
		}
		if got != want {
			t.Errorf("%s: owned by %q, want %q", path, got, want)
		}
	}
	// "/.", /usr/bin/x, /usr/lib/empty (a directory left empty reads as a
	// file: harmless), /usr/bin/y, /usr/sbin/z.
	if n := len(ix.hashes); n != 5 || len(ix.pkgs) != n {
		t.Errorf("%d paths kept (%d packages beside them), want 5", n, len(ix.pkgs))
	}
	if bytes := cap(ix.hashes)*8 + cap(ix.pkgs)*2; bytes != 10*len(ix.hashes) {
		t.Errorf("%d bytes for %d paths, want 10 a path", bytes, len(ix.hashes))
	}
}
