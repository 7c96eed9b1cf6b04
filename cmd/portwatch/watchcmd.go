//go:build linux

package main

import (
	"time"

	"github.com/spf13/cobra"
)

// watchSettings are portwatch watch's command line.
type watchSettings struct {
	baselineChoice
	interval    time.Duration
	logPath     string // --log; "" for stdout
	textfile    string // --textfile
	metricsAddr string // --metrics-addr, HOST:PORT with the host filled in
	// metricsSystemdSocket: serve on the socket systemd passes
	// (--metrics-systemd-socket).
	metricsSystemdSocket bool

	logFormat logFormat // --log-format: the schema of the event lines
}

// newWatchCommand is portwatch watch: the monitor's polling without a
// terminal, for a service; run is runWatch.
func newWatchCommand(run runner[watchSettings]) *cobra.Command {
	var s watchSettings
	cmd := &cobra.Command{
		Use:   "watch",
		Short: "poll without a terminal, for a service: events, metrics",
		Long: `Every --interval, portwatch reads the sockets as the monitor does and writes
each event (a listener opened, closed, unexpected, changed or missing; a new
finding) as one JSON line to --log, or to stdout. --textfile and
--metrics-addr export the state as Prometheus metrics. SIGTERM or SIGINT
stops it (exit 0); SIGHUP reads the baseline file again.`,
		Args: flagsOnly,
		RunE: func(c *cobra.Command, _ []string) error { return run(s, c.OutOrStdout(), c.ErrOrStderr()) },
	}
	fs := cmd.Flags()
	fs.SortFlags = false
	addIntervalFlag(fs, &s.interval)
	addBaselineFlag(fs, &s.baselinePath)
	addLogFlag(fs, &s.logPath)
	addLogFormatFlag(fs, &s.logFormat)
	fs.Var(textfileValue{&s.textfile}, "textfile",
		"rewrite this node_exporter textfile-collector file (ending in .prom) after every poll, atomically")
	fs.Var(addrValue{&s.metricsAddr}, "metrics-addr",
		"serve Prometheus metrics on http://HOST:PORT/metrics; a bare port (19273 or :19273) binds 127.0.0.1 only; off without it")
	fs.BoolVar(&s.metricsSystemdSocket, "metrics-systemd-socket", false,
		"serve Prometheus metrics on the socket systemd passes (LISTEN_FDS; deploy/systemd/portwatch-watch.socket), which holds the port across restarts")
	addHelpFlag(fs)
	return cmd
}
