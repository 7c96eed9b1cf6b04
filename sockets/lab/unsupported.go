//go:build !linux

package lab

// The lab makes real Linux sockets, namespaces and firewall rules, and
// portwatch reads only Linux's socket tables: a build for another system
// stops here, with one error that names the reason. The identifier below is
// deliberately undefined.
var _ = portwatch_lab_runs_on_Linux_only__build_it_with_GOOS_linux
