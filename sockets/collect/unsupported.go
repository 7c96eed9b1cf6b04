//go:build !linux

package collect

// portwatch reads the kernel's socket tables through interfaces only Linux
// has (netlink sock_diag, /proc/net, /proc/PID/fd): there is nothing to
// port. On another system this package is empty, so the module still builds
// and the portwatch binary says so in one line (cmd/portwatch/unsupported.go).
