//go:build linux

package pkgproof

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
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

// dpkg's status is read for its packages' names, architectures, versions
// and states only: its descriptions, most of the file, cost nothing (each
// of its lines was made a string).
func TestDpkgStatusDescriptionsCostNothing(t *testing.T) {
	var status strings.Builder
	for i := range 20 {
		fmt.Fprintf(&status, "Package: p%d\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1.%d\nDescription: a package\n", i, i)
		for range 100 {
			status.WriteString(" a line of its long description, as dpkg keeps it\n")
		}
		status.WriteString("\n")
	}
	status.WriteString("Package: removed\nStatus: deinstall ok config-files\nVersion: 9\n")
	path := filepath.Join(t.TempDir(), "status")
	must(t, os.WriteFile(path, []byte(status.String()), 0o644))
	got, err := readStatus(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 40 || got["p7"] != "1.7" || got["p7:amd64"] != "1.7" || got["removed"] != "" {
		t.Fatalf("%d entries: p7 %q, p7:amd64 %q, removed %q", len(got), got["p7"], got["p7:amd64"], got["removed"])
	}
	// The file, the scanner and its buffer, the map; per package its name,
	// architecture, version and name:arch, the map growing: never per line.
	if allocs := testing.AllocsPerRun(5, func() { readStatus(path) }); allocs > 150 {
		t.Errorf("%.0f allocations for 21 packages of 106 lines each, want at most 150", allocs)
	}
}
