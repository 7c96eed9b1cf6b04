//go:build !linux

// Command pollbench measures Linux's socket interfaces; elsewhere it says so.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "pollbench: measures Linux's kernel interfaces only")
	os.Exit(1)
}
