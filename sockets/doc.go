// Package sockets takes snapshots of the machine's TCP and UDP sockets, maps
// each socket to every process that holds it, and knows what the well-known
// ports are and what their risks look like. It imports no UI package: the TUI
// and the command-line modes only render what this package returns.
package sockets
