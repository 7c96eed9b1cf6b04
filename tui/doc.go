// Package tui is portwatch's interactive monitor: a bubbletea program that
// renders snapshots from a sockets.Source in tabs, with a detail pane, filter,
// sort and a safe way to end a process. It never reads the machine itself.
package tui
