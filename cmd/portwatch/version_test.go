//go:build linux

package main

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"testing"
)

// TestBuildStampFrom: what -ldflags sets wins; what it leaves unset comes
// from the build information go build records; nothing known says unknown.
func TestBuildStampFrom(t *testing.T) {
	clone := &debug.BuildInfo{Main: debug.Module{Path: "github.com/portwatch/portwatch", Version: "v0.0.0-20261202164343-7d46a97c0f3e+dirty"},
		Settings: []debug.BuildSetting{{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: "7d46a97c0f3e1f0e5a2b9c8d7e6f5a4b3c2d1e0f"},
			{Key: "vcs.time", Value: "2026-12-02T16:43:43Z"}, {Key: "vcs.modified", Value: "true"}}}
	installed := &debug.BuildInfo{Main: debug.Module{Path: "github.com/portwatch/portwatch", Version: "v0.2.0", Sum: "h1:abc="}}
	for _, c := range []struct {
		name                  string
		version, commit, date string
		info                  *debug.BuildInfo
		want                  string
	}{
		{"a clone", "0.1.0-dev", "", "", clone,
			"portwatch 0.1.0-dev, commit 7d46a97c0f3e1f0e5a2b9c8d7e6f5a4b3c2d1e0f (modified), date 2026-12-02T16:43:43Z"},
		{"ldflags", "1.2.3", "abc123", "2026-01-02T03:04:05Z", clone, "portwatch 1.2.3, commit abc123, date 2026-01-02T03:04:05Z"},
		{"ldflags commit alone", "1.2.3", "abc123", "", clone, "portwatch 1.2.3, commit abc123, date unknown"},
		{"go install @v0.2.0", "", "", "", installed, "portwatch 0.2.0, commit unknown, date unknown"},
		{"no build information", "0.1.0-dev", "", "", nil, "portwatch 0.1.0-dev, commit unknown, date unknown"},
		{"nothing at all", "", "", "", &debug.BuildInfo{}, "portwatch unknown, commit unknown, date unknown"},
	} {
		if got := stampFrom(c.version, c.commit, c.date, c.info).String(); got != c.want {
			t.Errorf("%s:\n got %q\nwant %q", c.name, got, c.want)
		}
	}
}

// TestVersionOfBuiltBinary: go build from a clone says the commit the
// toolchain recorded (as go version -m reads it from the binary: in a clone,
// git's HEAD), and -ldflags -X main.version, main.commit and main.date
// replace all three.
func TestVersionOfBuiltBinary(t *testing.T) {
	dir := t.TempDir()
	plain := filepath.Join(dir, "portwatch")
	// -buildvcs=true: this machine's go env turns the recording off.
	if out, err := exec.Command("go", "build", "-buildvcs=true", "-o", plain, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	meta, err := exec.Command("go", "version", "-m", plain).Output()
	if err != nil {
		t.Fatalf("go version -m: %v", err)
	}
	setting := func(key string) string {
		m := regexp.MustCompile(`(?m)^\s*build\s+` + regexp.QuoteMeta(key) + `=(\S*)$`).FindSubmatch(meta)
		if m == nil {
			return ""
		}
		return string(m[1])
	}
	want := buildStamp{version: version, commit: setting("vcs.revision"), date: setting("vcs.time"), modified: setting("vcs.modified") == "true"}
	gitDirs, gitErr := exec.Command("git", "rev-parse", "--git-dir", "--git-common-dir", "HEAD").Output()
	switch f := strings.Fields(string(gitDirs)); {
	case gitErr != nil || len(f) != 3:
		t.Logf("not a git clone (%v): nothing to compare the commit with", gitErr)
	case f[0] != f[1]:
		// go build records nothing of a linked work tree (git worktree add).
		t.Logf("a linked git work tree: go build recorded commit %q", want.commit)
	case want.commit != f[2]:
		t.Errorf("go build recorded commit %q, git says HEAD is %s", want.commit, f[2])
	}
	out, err := exec.Command(plain, "--version").Output()
	if err != nil || string(out) != want.String()+"\n" {
		t.Errorf("portwatch --version: %q %v, want %q", out, err, want.String())
	}

	stamped := filepath.Join(dir, "portwatch-stamped")
	ldflags := "-X main.version=9.8.7 -X main.commit=0123456789abcdef -X main.date=2026-01-02T03:04:05Z"
	if out, err := exec.Command("go", "build", "-buildvcs=true", "-ldflags", ldflags, "-o", stamped, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build -ldflags: %v\n%s", err, out)
	}
	out, err = exec.Command(stamped, "--version").Output()
	if want := "portwatch 9.8.7, commit 0123456789abcdef, date 2026-01-02T03:04:05Z\n"; err != nil || string(out) != want {
		t.Errorf("portwatch --version built with %s: %q %v, want %q", ldflags, out, err, want)
	}
}
