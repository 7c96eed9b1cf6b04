//go:build !linux

// Command portwatch reads Linux's kernel interfaces only; built for another
// system it says so in one line and exits 1.
package main

import (
	"fmt"
	"os"
	"runtime"
)

func main() {
	fmt.Fprintf(os.Stderr, "portwatch: reads Linux's kernel interfaces (netlink sock_diag, /proc, nftables); this build is for %s/%s and cannot run\n", runtime.GOOS, runtime.GOARCH)
	os.Exit(1)
}
