package main

import (
	"os"

	"github.com/portwatch/portwatch/sockets"
)

// runMonitor starts the interactive monitor.
func runMonitor(o options, src sockets.Source) error {
	o.once = true
	return dispatchOnce(o, src, os.Stdout)
}
