//go:build !linux

package collect

// portwatch reads the kernel's socket tables through interfaces only Linux
// has (netlink sock_diag, /proc/net, /proc/PID/fd): there is nothing to
// port, so a build for another system stops here, with an error whose one
// line names the reason. The identifier below is deliberately undefined.
var _ = portwatch_reads_Linux_sockets_only__build_it_with_GOOS_linux
