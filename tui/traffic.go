package tui

import (
	"cmp"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/traffic"
	"github.com/portwatch/portwatch/tui/rowset"
)

// The traffic columns. A rate is blank for a socket without counters (UDP,
// sockets read from /proc/net), "…" until a connection has been listed
// twice, "0 B/s" for an idle TCP connection. They sort busiest first, and
// give way at narrow widths before the columns that say what a socket is.
var (
	colRateIn = column{title: "RATE IN", width: 8, min: 8, priority: 5, right: true,
		cell: func(_ cellContext, r *rowset.Row) string { return rateCell(r.Flow(), flowIn) },
		less: func(a, b *rowset.Row) int { return cmp.Compare(rateKey(b, flowIn), rateKey(a, flowIn)) }}
	colRateOut = column{title: "RATE OUT", width: 8, min: 8, priority: 5, right: true,
		cell: func(_ cellContext, r *rowset.Row) string { return rateCell(r.Flow(), flowOut) },
		less: func(a, b *rowset.Row) int { return cmp.Compare(rateKey(b, flowOut), rateKey(a, flowOut)) }}
	// A listener's rate is its connections' both ways.
	colRate = column{title: "RATE", width: 8, min: 8, priority: 2, right: true,
		cell: func(_ cellContext, r *rowset.Row) string { return rateCell(r.Flow(), (*traffic.Flow).Total) },
		less: func(a, b *rowset.Row) int {
			return cmp.Compare(rateKey(b, (*traffic.Flow).Total), rateKey(a, (*traffic.Flow).Total))
		}}
)

func flowIn(f *traffic.Flow) float64  { return f.In }
func flowOut(f *traffic.Flow) float64 { return f.Out }

// trafficColumns are the titles of the columns read from the traffic: a
// poll that only moved bytes re-sorts the rows when one of them is the
// sort column, and only then.
var trafficColumns = map[string]bool{colRateIn.title: true, colRateOut.title: true, colRate.title: true}

func rateCell(f *traffic.Flow, rate func(*traffic.Flow) float64) string {
	switch {
	case f == nil:
		return ""
	case !f.Measured:
		return "…"
	}
	return humanRate(rate(f))
}

// rateKey sorts rates with the rows that have none after every measured
// one, idle ones included.
func rateKey(r *rowset.Row, rate func(*traffic.Flow) float64) float64 {
	f := r.Flow()
	switch {
	case f == nil:
		return -2
	case !f.Measured:
		return -1
	}
	return rate(f)
}

// humanRate is "0 B/s", "512 B/s", "1.9 MB/s", "12 KB/s": decimal units,
// at most eight cells.
func humanRate(bps float64) string { return humanBytes(bps) + "/s" }

// humanBytes is "512 B", "1.9 MB", "240 KB", "3.1 GB" (decimal units).
func humanBytes(b float64) string {
	units := [...]string{"B", "KB", "MB", "GB", "TB", "PB"}
	if math.IsNaN(b) || b < 0 {
		b = 0
	}
	i := 0
	for i < len(units)-1 && b >= 999.5 {
		b /= 1000
		i++
	}
	switch {
	case i == 0:
		return strconv.Itoa(int(b+0.5)) + " B"
	case b < 9.95:
		return strconv.FormatFloat(b, 'f', 1, 64) + " " + units[i]
	}
	return strconv.FormatFloat(b, 'f', 0, 64) + " " + units[i]
}

// sparkBlocks draw a sparkline in eight heights; no byte at all is a
// blank, so that "nothing" and "a little" differ without colour.
var sparkBlocks = []rune("▁▂▃▄▅▆▇█")

// sparkline draws values, oldest first, in at most width cells, each as
// high as its share of peak: where there are more values than cells, a
// cell shows the highest of those it stands for (a burst stays visible).
func sparkline(values []float32, width int, peak float64) string {
	n := len(values)
	if width <= 0 || n == 0 {
		return ""
	}
	cells := min(width, n)
	var b strings.Builder
	for c := range cells {
		var v float32
		for _, x := range values[c*n/cells : (c+1)*n/cells] {
			v = max(v, x)
		}
		switch {
		case v <= 0 || peak <= 0:
			b.WriteByte(' ')
		default:
			level := int(math.Ceil(float64(v)/peak*float64(len(sparkBlocks)))) - 1
			b.WriteRune(sparkBlocks[min(max(level, 0), len(sparkBlocks)-1)])
		}
	}
	return b.String()
}

// trafficLines is the detail pane's Traffic section: for a connection its
// rates, the bytes each way, the round trip, the retransmits, the queues
// and its last minute; for a listener the sum over its connections. Nothing
// for a socket without counters (UDP keeps none).
func trafficLines(look detailLook, r *rowset.Row, w int) []string {
	f := r.Flow()
	if f == nil {
		return nil
	}
	th := look.theme
	out := []string{th.Label.Render("Traffic")}
	rates := fmt.Sprintf("in %s · out %s", humanRate(f.In), humanRate(f.Out))
	switch {
	case r.Socket.IsListening() && f.Active == 0:
		out = append(out, hanging("  ", "  ", "its connections: "+rates+" (none moving)", w)...)
	case r.Socket.IsListening():
		out = append(out, hanging("  ", "  ", fmt.Sprintf("its connections: %s (%s moving)", rates, statusFor(int(f.Active), "connection")), w)...)
	case !f.Measured:
		out = append(out, "  in … · out …: a rate needs a second poll")
	default:
		out = append(out, "  "+rates)
	}
	if c := f.Counters; c != nil {
		out = append(out, hanging("  ", "  ", fmt.Sprintf("received %s · sent %s · rtt %s · retransmits %d",
			humanBytes(float64(c.BytesReceived)), humanBytes(float64(c.BytesSent)), rttWords(c), c.Retransmits), w)...)
		queues := fmt.Sprintf("send queue %s · receive queue %s", humanBytes(float64(c.SendQueue)), humanBytes(float64(c.RecvQueue)))
		if c.WindowKnown && c.SendWindow == 0 && r.Socket.State == sockets.StateEstablished {
			queues += " · the peer's window is zero"
		}
		out = append(out, hanging("  ", "  ", queues, w)...)
	}
	if f.Measured {
		out = append(out, historyGraph(f.History, w)...)
	}
	return out
}

// rttWords is the smoothed round trip in milliseconds.
func rttWords(c *sockets.Traffic) string {
	return strconv.FormatFloat(c.RTTMillis(), 'f', -1, 64) + " ms"
}

// historyGraph is a flow's last minute: a sparkline each way, framed so
// that a quiet stretch reads as blank, with the peak that is its top.
func historyGraph(h *traffic.History, w int) []string {
	if h == nil {
		return []string{"  last minute: no byte moved"}
	}
	peak := h.Peak()
	width := min(traffic.HistorySeconds, max(w-30, 10))
	line := func(name string, vals []float32) string {
		return fmt.Sprintf("  %-4s│%s│", name, sparkline(vals, width, peak))
	}
	return []string{
		line("in", h.In[:]) + " peak " + humanRate(peak),
		line("out", h.Out[:]),
		fmt.Sprintf("  %-4s the last %d s, until %s", "", traffic.HistorySeconds, h.End.Format("15:04:05")),
	}
}
