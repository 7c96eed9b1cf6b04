//go:build linux

package main

import (
	"compress/gzip"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestReleaseStampsVersion: the -X names in .goreleaser.yaml's ldflags are
// the variables --version reads (a -X naming no variable is silently
// ignored by the linker). (scripts/release-check.sh checks goreleaser's
// binaries are static and of their architecture.)
func TestReleaseStampsVersion(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	cfg, err := os.ReadFile("../../.goreleaser.yaml")
	if err != nil {
		t.Fatal(err)
	}
	text := string(cfg)
	for _, want := range []string{"CGO_ENABLED=0", "goarch: [amd64, arm64]", "goos: [linux]", "formats: [deb, rpm]",
		"-X main.version={{ .Version }} -X main.commit={{ .Commit }} -X main.date={{ .Date }}"} {
		if !strings.Contains(text, want) {
			t.Errorf(".goreleaser.yaml lacks %q", want)
		}
	}
	bin := filepath.Join(t.TempDir(), "portwatch")
	build := exec.Command("go", "build", "-trimpath", "-o", bin,
		"-ldflags", "-X main.version=9.8.7 -X main.commit=0123abc -X main.date=2026-12-02T18:00:00Z", ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "--version").Output()
	if want := "portwatch 9.8.7, commit 0123abc, date 2026-12-02T18:00:00Z\n"; err != nil || string(out) != want {
		t.Errorf("--version of a release build: %q %v, want %q", out, err, want)
	}
}

// TestReleaseAssets runs packaging/assets.sh (goreleaser's before hook)
// into a directory of the test's: every file .goreleaser.yaml packages
// from build/release is made, the man pages are gzipped pages of every
// command (watch's with --log-format), the completions are portwatch's,
// and each unit of deploy/systemd runs the packaged /usr/bin/portwatch.
func TestReleaseAssets(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	out := t.TempDir()
	cmd := exec.Command("bash", "../../packaging/assets.sh", "9.8.7", "1764698400")
	cmd.Env = append(os.Environ(), "ASSETS_OUT="+out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("packaging/assets.sh: %v\n%s", err, b)
	}
	cfg, _ := os.ReadFile("../../.goreleaser.yaml")
	srcs := regexp.MustCompile(`(?m)^\s*- src: build/release/(\S+)$|^\s*src: build/release/(\S+)$`).FindAllStringSubmatch(string(cfg), -1)
	if len(srcs) < 6 {
		t.Fatalf(".goreleaser.yaml packages %d files from build/release, want the man pages, 3 completions and the units at least", len(srcs))
	}
	for _, m := range srcs {
		pattern := m[1] + m[2]
		if got, _ := filepath.Glob(filepath.Join(out, pattern)); len(got) == 0 {
			t.Errorf(".goreleaser.yaml packages build/release/%s, which assets.sh does not make", pattern)
		}
	}
	for _, page := range []string{"portwatch", "portwatch-watch", "portwatch-baseline-save", "portwatch-lab", "portwatch-completion"} {
		f, err := os.Open(filepath.Join(out, "man", page+".1.gz"))
		if err != nil {
			t.Errorf("no man page %s: %v", page, err)
			continue
		}
		zr, err := gzip.NewReader(f)
		if err != nil {
			t.Errorf("%s.1.gz: %v", page, err)
			f.Close()
			continue
		}
		b, _ := io.ReadAll(zr)
		f.Close()
		if !strings.Contains(string(b), `.TH "`+strings.ToUpper(page)+`" "1"`) || !strings.Contains(string(b), "portwatch 9.8.7") {
			t.Errorf("%s.1.gz is not a man page of portwatch 9.8.7: %.200s", page, b)
		}
		if page == "portwatch-watch" && !strings.Contains(string(b), "log-format") {
			t.Errorf("man portwatch-watch does not describe --log-format")
		}
	}
	for name, want := range map[string]string{"portwatch.bash": "__start_portwatch", "_portwatch": "#compdef portwatch", "portwatch.fish": "complete -c portwatch"} {
		if b, err := os.ReadFile(filepath.Join(out, "completions", name)); err != nil || !strings.Contains(string(b), want) {
			t.Errorf("completion %s: %v, want it to contain %q", name, err, want)
		}
	}
	units, _ := filepath.Glob("../../deploy/systemd/*.service")
	sockets, _ := filepath.Glob("../../deploy/systemd/*.socket")
	for _, u := range append(units, sockets...) {
		b, err := os.ReadFile(filepath.Join(out, "systemd", filepath.Base(u)))
		if err != nil {
			t.Errorf("the packaged unit: %v", err)
			continue
		}
		if strings.Contains(string(b), "/usr/local/bin") {
			t.Errorf("the packaged %s still names /usr/local/bin", filepath.Base(u))
		}
		if strings.HasSuffix(u, ".service") && !regexp.MustCompile(`(?m)^ExecStart=/usr/bin/portwatch `).Match(b) {
			t.Errorf("the packaged %s does not run /usr/bin/portwatch", filepath.Base(u))
		}
	}
	if len(units) == 0 {
		t.Error("no unit in deploy/systemd")
	}
	t.Run("goreleaser check", func(t *testing.T) {
		gr, err := exec.LookPath("goreleaser")
		if err != nil {
			t.Skip("goreleaser is not installed (scripts/release-check.sh installs it)")
		}
		check := exec.Command(gr, "check")
		check.Dir = "../.."
		if b, err := check.CombinedOutput(); err != nil {
			t.Errorf("goreleaser check: %v\n%s", err, b)
		}
	})
}
