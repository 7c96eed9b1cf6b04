//go:build linux

package pkgproof

import (
	"os"
	"runtime"
	"testing"
	"time"
)

// BenchmarkDpkgIndex builds this machine's path index: what the first
// check of a new file pays once (and again only when dpkg's status
// changes), and the memory it keeps.
func BenchmarkDpkgIndex(b *testing.B) {
	st, err := os.Stat("/var/lib/dpkg/status")
	if err != nil {
		b.Skip("not a dpkg system")
	}
	for b.Loop() {
		buildDpkgIndex("/var/lib/dpkg", st.ModTime())
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	ix := buildDpkgIndex("/var/lib/dpkg", time.Time{})
	runtime.GC()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(len(ix.hashes)), "paths")
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "MiB-kept")
	runtime.KeepAlive(ix)
}
