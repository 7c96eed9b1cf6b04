// Package collect reads the sockets of the Linux machine it runs on: it
// lists them through netlink sock_diag (or the /proc/net tables), finds the
// processes that hold each one by walking /proc/PID/fd, and sees into the
// other network namespaces through their processes. Every file but this one
// and unsupported.go builds on Linux only: on any other system the package
// stops the build with a single error that says so.
package collect
