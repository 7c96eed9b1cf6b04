// Package tui is portwatch's interactive monitor: a bubbletea program that
// shows the verdicts of sockets/assess in tabs, with a detail pane, filter,
// sort and a safe way to end a process. Update and View read no file and
// send nothing: polls, signals and host-name lookups run in commands. The
// rows it follows live in tui/rowset.
package tui
