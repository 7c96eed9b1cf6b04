//go:build !linux

package lab

// The lab makes real Linux sockets, namespaces and firewall rules. On another
// system this package is empty, so the module still builds and the portwatch
// binary says in one line why it cannot run (cmd/portwatch/unsupported.go).
