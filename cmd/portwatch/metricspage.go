//go:build linux

package main

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"strings"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
)

// maxScrapes is how many scrapes /metrics serves at once; more get 503 at
// once. Prometheus scrapes a target once per interval: a handful is every
// legitimate scraper, and a flood of them costs a refusal each, not a page.
const maxScrapes = 4

// metricsPage is one poll's metrics, gathered and encoded once: every
// scrape until the next poll is served these bytes, so a scrape costs a
// write, not a gathering (which at 5,000 listeners was megabytes a scrape).
type metricsPage struct {
	text, gzipped []byte
}

// metricsServer is watch's /metrics: the last published page, and the
// slots that bound concurrent scrapes.
type metricsServer struct {
	page     atomic.Pointer[metricsPage]
	slots    chan struct{}
	rejected prometheus.Counter
}

func newMetricsServer(r *prometheus.Registry) *metricsServer {
	m := &metricsServer{slots: make(chan struct{}, maxScrapes),
		rejected: prometheus.NewCounter(prometheus.CounterOpts{Name: "portwatch_scrapes_rejected_total",
			Help: "Scrapes of /metrics refused with 503 because maxScrapes were being served already."})}
	r.MustRegister(m.rejected)
	return m
}

// gatherOnce gathers g's metrics once, for the page and the textfile alike.
func gatherOnce(g prometheus.Gatherer) (prometheus.Gatherer, []*dto.MetricFamily, error) {
	mfs, err := g.Gather()
	return prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) { return mfs, err }), mfs, err
}

// publish encodes mfs as the page every scrape gets until the next poll.
func (m *metricsServer) publish(mfs []*dto.MetricFamily) error {
	var text bytes.Buffer
	enc := expfmt.NewEncoder(&text, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			return err
		}
	}
	var zipped bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&zipped, gzip.BestSpeed)
	zw.Write(text.Bytes())
	if err := zw.Close(); err != nil {
		return err
	}
	m.page.Store(&metricsPage{text: text.Bytes(), gzipped: zipped.Bytes()})
	return nil
}

// ServeHTTP serves the last page, gzipped when the scraper accepts it (as
// Prometheus does), or 503 when maxScrapes are being served.
func (m *metricsServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	select {
	case m.slots <- struct{}{}:
		defer func() { <-m.slots }()
	default:
		m.rejected.Inc()
		w.Header().Set("Retry-After", "1")
		http.Error(w, "portwatch: too many scrapes at once", http.StatusServiceUnavailable)
		return
	}
	p := m.page.Load()
	if p == nil {
		http.Error(w, "portwatch: no poll yet", http.StatusServiceUnavailable)
		return
	}
	h := w.Header()
	h.Set("Content-Type", string(expfmt.NewFormat(expfmt.TypeTextPlain)))
	h.Set("Vary", "Accept-Encoding")
	body := p.text
	if acceptsGzip(r.Header.Get("Accept-Encoding")) {
		h.Set("Content-Encoding", "gzip")
		body = p.gzipped
	}
	w.Write(body)
}

// acceptsGzip reads an Accept-Encoding header, as far as gzip goes.
func acceptsGzip(header string) bool {
	for part := range strings.SplitSeq(header, ",") {
		name, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(name), "gzip") && strings.ReplaceAll(strings.TrimSpace(q), " ", "") != "q=0" {
			return true
		}
	}
	return false
}
