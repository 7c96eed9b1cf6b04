//go:build linux

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/portwatch/portwatch/sockets/baseline"
	"github.com/portwatch/portwatch/sockets/collect"
	"github.com/portwatch/portwatch/sockets/poll"
)

// watcher is portwatch watch's state between polls: the one poll every
// output shares (sockets/poll), and what watch does with its result.
type watcher struct {
	poller   *poll.Poller
	base     *baseline.Baseline
	log      *eventLog
	metrics  *exporter
	bytes    *programBytes
	server   *metricsServer // nil without --metrics-addr or --metrics-systemd-socket
	textfile string
}

// poll reads, judges, reports. Its errors are returned together: one
// failing output does not stop the others.
func (w *watcher) poll(ctx context.Context) error {
	r, err := w.poller.Poll(ctx, w.base)
	if err != nil {
		return fmt.Errorf("reading sockets: %w", err)
	}
	w.metrics.update(r.Assessment, r.Snapshot, r.Took)
	w.bytes.observe(r.Traffic.Moved, w.metrics.holds, func(p string) bool { return w.metrics.priority[p] }, r.At)
	r.Release()
	logErr := w.log.Write(r.Events)
	return errors.Join(logErr, w.export())
}

// export gathers the poll's metrics once, for the page every scrape reads
// until the next poll and for the textfile.
func (w *watcher) export() error {
	if w.server == nil && w.textfile == "" {
		return nil
	}
	g, mfs, err := gatherOnce(w.metrics.registry)
	if err != nil {
		return fmt.Errorf("gathering the metrics: %w", err)
	}
	var pageErr, fileErr error
	if w.server != nil {
		pageErr = w.server.publish(mfs)
	}
	if w.textfile != "" {
		if err := writeTextfile(w.textfile, g); err != nil {
			fileErr = fmt.Errorf("writing the textfile %s: %w", w.textfile, err)
		}
	}
	return errors.Join(pageErr, fileErr)
}

// runWatch is portwatch watch: a poll every --interval until SIGTERM or
// SIGINT, which end it with exit code 0: a poll still reading the machine
// is cut short (it has seen nothing yet), one past reading is finished and
// written; every event is written as it is made, so none is left behind.
// The first poll's errors end it (a textfile directory that does not
// exist is a mistake to see at once); later ones are written to stderr,
// counted in portwatch_poll_errors_total, and polling goes on.
func runWatch(o watchSettings, stdout, stderr io.Writer) error {
	base, _, err := loadBaseline(o.baselineChoice)
	if err != nil {
		return err
	}
	log := stdoutEventLog(stdout)
	where := "stdout"
	if o.logPath != "" {
		if log, err = openEventLog(o.logPath); err != nil {
			return err
		}
		where = o.logPath
	}
	defer log.Close()
	log.setFormat(o.logFormat)
	w := &watcher{poller: poll.New(poll.Config{Source: collect.NewLive(), Interval: o.interval}),
		base: base, log: log, metrics: newExporter(), textfile: o.textfile}
	w.bytes = newProgramBytes(w.metrics.registry, w.metrics.capped)
	w.metrics.registry.MustRegister(log.unwrittenCounter())
	if o.textfile != "" {
		if err := prepareTextfile(o.textfile); err != nil {
			return err
		}
	}

	// Signals first: a SIGTERM that arrives while the server starts still
	// ends the program cleanly.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)

	metricsAt := "no metrics server"
	if o.metricsAddr != "" || o.metricsSystemdSocket {
		ln, err := metricsListener(o)
		if err != nil {
			return err
		}
		// Scrapes are served the last poll's page (see metricsPage); before
		// the first poll, build info alone (the textfile waits for the poll).
		w.server = newMetricsServer(w.metrics.registry)
		if _, mfs, err := gatherOnce(w.metrics.registry); err != nil || w.server.publish(mfs) != nil {
			ln.Close()
			return fmt.Errorf("the metrics before the first poll: %v", err)
		}
		mux := http.NewServeMux()
		mux.Handle("/metrics", w.server)
		srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
			WriteTimeout: 10 * time.Second, IdleTimeout: time.Minute, MaxHeaderBytes: 8 << 10}
		go srv.Serve(ln)
		defer func() {
			sctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
			defer cancel()
			srv.Shutdown(sctx)
		}()
		metricsAt = "metrics on http://" + ln.Addr().String() + "/metrics"
	}
	textfile := ""
	if o.textfile != "" {
		textfile = ", textfile " + o.textfile
	}
	fmt.Fprintf(stderr, "portwatch watch: every %s, %s, events to %s, %s%s\n",
		shortDuration(o.interval), describeBaseline(base), where, metricsAt, textfile)

	tuneWatchGC()

	// systemd (Type=notify or notify-reload): READY=1 once the first poll
	// is exported, WATCHDOG=1 after every poll, RELOADING=1 and READY=1
	// around a SIGHUP, STOPPING=1 at the end.
	sd, err := newNotifier()
	if err != nil {
		fmt.Fprintf(stderr, "portwatch watch: %v; systemd is not told of readiness\n", err)
	}
	if sd != nil && sd.watchdog > 0 && sd.watchdog < 3*o.interval {
		fmt.Fprintf(stderr, "portwatch watch: systemd's watchdog (%s) is under three --interval (%s): a slow poll will get watch restarted\n",
			shortDuration(sd.watchdog), shortDuration(o.interval))
	}
	defer sd.close()
	defer sd.stopping()

	tick := time.NewTicker(o.interval)
	defer tick.Stop()
	for first := true; ; first = false {
		if err := w.poll(ctx); err != nil {
			switch {
			case ctx.Err() != nil: // a signal cut the poll short: nothing was read, nothing to write
				return nil
			case first, errors.Is(err, syscall.EPIPE): // EPIPE: stdout's reader has gone, nobody hears
				return err
			}
			w.metrics.errors.Inc()
			fmt.Fprintf(stderr, "portwatch watch: %v\n", err)
		} else {
			sd.alive() // a poll that fails does not feed the watchdog
		}
		if first {
			sd.ready()
		}
		select {
		case <-ctx.Done():
			return nil
		case <-hup:
			sd.reloading()
			w.reload(o, stderr)
			sd.ready()
		case <-tick.C:
		}
	}
}

// reload reads the baseline file again (SIGHUP: configuration management
// changed it). A file that does not parse leaves the old baseline in use.
func (w *watcher) reload(o watchSettings, stderr io.Writer) {
	base, _, err := loadBaseline(o.baselineChoice)
	if err != nil {
		fmt.Fprintf(stderr, "portwatch watch: SIGHUP: %v; still using %s\n", err, describeBaseline(w.base))
		return
	}
	w.base = base
	fmt.Fprintf(stderr, "portwatch watch: SIGHUP: now using %s\n", describeBaseline(base))
}
