//go:build !linux

// Command dumpbench measures Linux's socket interfaces; elsewhere it says so.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "dumpbench: measures Linux's kernel interfaces only")
	os.Exit(1)
}
