package traffic

import "time"

// HistorySeconds is how far back a history goes.
const HistorySeconds = 60

// History is the last minute of a socket's rates, a second a slot, oldest
// first: In[i] and Out[i] are the bytes received and sent in the second
// that ends HistorySeconds-1-i seconds before End. Each poll's bytes are
// spread over the seconds between it and the last poll, so the slots hold
// rates whatever the interval. It is never changed once made.
type History struct {
	End     time.Time // the end of the last slot: a whole second
	In, Out [HistorySeconds]float32
}

// Peak is the highest rate of the minute, either way.
func (h *History) Peak() float64 {
	var p float32
	for i := range h.In {
		p = max(p, h.In[i], h.Out[i])
	}
	return float64(p)
}

// ring is the tracker's own, changing, history of one socket: the slots
// of the last HistorySeconds whole seconds and of the current one, by
// absolute second.
type ring struct {
	sec     int64 // the latest second written (its slot is partial)
	in, out [HistorySeconds + 1]float32
}

const ringSlots = HistorySeconds + 1

func slot(sec int64) int { return int(((sec % ringSlots) + ringSlots) % ringSlots) }

// add spreads a poll's rates over the seconds from from to to.
func (r *ring) add(from, to time.Time, in, out float64) {
	cur := to.Unix()
	if r.sec == 0 {
		r.sec = cur
	}
	if cur > r.sec { // seconds that passed: emptied before they are filled
		for s := r.sec + 1; s <= cur && s <= r.sec+ringSlots; s++ {
			r.in[slot(s)], r.out[slot(s)] = 0, 0
		}
		r.sec = cur
	}
	if in == 0 && out == 0 {
		return
	}
	lo, hi := from.UnixNano(), to.UnixNano()
	lo = max(lo, (r.sec-HistorySeconds)*int64(time.Second)) // nothing older than the ring holds
	for s := lo / int64(time.Second); s <= cur; s++ {
		a, b := max(lo, s*int64(time.Second)), min(hi, (s+1)*int64(time.Second))
		if b <= a {
			continue
		}
		part := float64(b-a) / float64(time.Second)
		r.in[slot(s)] += float32(in * part)
		r.out[slot(s)] += float32(out * part)
	}
}

// history is the ring's last HistorySeconds whole seconds as a History:
// prev itself when nothing in it changed, nil when the whole minute (and
// the current second) is without a byte. It is built in scratch, and
// copied to a new value only when it differs from prev.
func (r *ring) history(now time.Time, prev, scratch *History) *History {
	cur := max(now.Unix(), r.sec)
	h := scratch
	*h = History{}
	h.End = time.Unix(cur, 0)
	idle := r.in[slot(cur)] == 0 && r.out[slot(cur)] == 0
	for i := range HistorySeconds {
		s := cur - HistorySeconds + int64(i)
		if s > r.sec-ringSlots && s <= r.sec {
			h.In[i], h.Out[i] = r.in[slot(s)], r.out[slot(s)]
		}
		idle = idle && h.In[i] == 0 && h.Out[i] == 0
	}
	switch {
	case idle:
		return nil
	case prev != nil && *prev == *h:
		return prev
	}
	made := new(History)
	*made = *h
	return made
}
