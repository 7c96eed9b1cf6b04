package sockets

// Proof says how far a process's executable was proven to be what its
// name claims. Its words are part of the JSON interface.
type Proof string

// The proofs of an executable, strongest first.
const (
	// ProofPackage: a package database lists the path and the running
	// file's content matches the checksum the package recorded.
	ProofPackage Proof = "package"
	// ProofListed: a package lists the path, but its content could not be
	// compared (no checksum recorded, or the file is too large to hash).
	ProofListed Proof = "listed"
	// ProofSystemPath: no package database could be read; the file is at
	// least owned by root in a directory only root may write.
	ProofSystemPath Proof = "system-path"
	// ProofUnproven: nothing could be checked (the executable may not be
	// read, or it was replaced since the process started).
	ProofUnproven Proof = "unproven"
	// ProofUnowned: the package database lists no such file, or (without
	// one) the file or its directory may be written by someone but root.
	ProofUnowned Proof = "unowned"
	// ProofModified: a package lists the path and the running file differs
	// from what it installed.
	ProofModified Proof = "modified"
	// ProofMounted: the process runs in a mount namespace of its own on
	// this machine's root, where its path leads to another file than the
	// same path does here (a file mounted over a daemon's path): the name
	// and the path prove nothing.
	ProofMounted Proof = "mounted-over"
)

// Identity is what portwatch proved about a process's executable. It is
// shared by every process running the same file (by device, inode, mtime
// and size) and never changed once made.
type Identity struct {
	Proof Proof
	// Manager is the package database that was asked: "dpkg", "rpm" or ""
	// (none could be read).
	Manager string
	// Package and Version name the package that installed the file, where
	// one lists it: "openssh-server", "1:9.2p1-2".
	Package, Version string
	// Reason says, for people, what was proven or why nothing more could be.
	Reason string
}

// Proven reports whether the executable may count as the program it
// claims to be: installed by a package, or (without a package database) at
// least a root-owned file in a root-only directory.
func (id *Identity) Proven() bool {
	return id != nil && (id.Proof == ProofPackage || id.Proof == ProofListed || id.Proof == ProofSystemPath)
}

// Disproven reports whether the executable was shown not to be a
// package's: no package owns it, or it differs from what one installed.
func (id *Identity) Disproven() bool {
	return id != nil && (id.Proof == ProofUnowned || id.Proof == ProofModified || id.Proof == ProofMounted)
}

// PackageWords is "openssh-server 1:9.2p1-2", or "" where no package owns
// the file.
func (id *Identity) PackageWords() string {
	if id == nil || id.Package == "" {
		return ""
	}
	if id.Version == "" {
		return id.Package
	}
	return id.Package + " " + id.Version
}
