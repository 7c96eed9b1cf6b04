//go:build linux

package main

import (
	"runtime/debug"
	"strings"
)

// version, commit and date are set at build time, for a release:
//
//	go build -ldflags "-X main.version=0.2.0 -X main.commit=$(git rev-parse HEAD) -X main.date=$(date -u +%FT%TZ)"
//
// Left unset, commit and date are what go build recorded of the clone it
// built (vcs.revision, vcs.time, vcs.modified), so a binary built from a
// clone still says which commit it is. (go build records them unless
// -buildvcs=false, and records nothing of a linked git worktree.)
var (
	version = "0.1.0-dev"
	commit  = ""
	date    = ""
)

// buildStamp is what --version says.
type buildStamp struct {
	version, commit, date string
	modified              bool // built from a work tree with changes not committed
}

// readBuildStamp is this binary's stamp: the -ldflags values, else what
// the Go toolchain recorded in the binary.
func readBuildStamp() buildStamp {
	info, _ := debug.ReadBuildInfo()
	return stampFrom(version, commit, date, info)
}

// stampFrom fills what -ldflags left unset from the build information
// (nil when there is none). A module version is taken only from a module
// fetched by its version (go install ...@v0.2.0, which has a checksum), not
// from the pseudo-version go build makes up for a clone.
func stampFrom(version, commit, date string, info *debug.BuildInfo) buildStamp {
	b := buildStamp{version: version, commit: commit, date: date}
	if info == nil {
		return b
	}
	if b.version == "" && info.Main.Sum != "" {
		b.version = strings.TrimPrefix(info.Main.Version, "v")
	}
	if b.commit != "" {
		return b // stamped at build time: the recorded VCS state is not asked
	}
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			b.commit = s.Value
		case "vcs.time":
			if b.date == "" {
				b.date = s.Value
			}
		case "vcs.modified":
			b.modified = s.Value == "true"
		}
	}
	return b
}

// String is the --version line: "portwatch 0.1.0-dev, commit 7d46a97…
// (modified), date 2026-12-02T16:43:43Z"; what is not known says unknown.
func (b buildStamp) String() string {
	or := func(s string) string {
		if s == "" {
			return "unknown"
		}
		return s
	}
	c := or(b.commit)
	if b.modified {
		c += " (modified)"
	}
	return "portwatch " + or(b.version) + ", commit " + c + ", date " + or(b.date)
}
