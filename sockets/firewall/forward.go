//go:build linux

package firewall

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"strconv"
	"strings"
)

// Forwarding: a published port is a DNAT to another address, and the packet then has to be
// forwarded. A namespace that does not forward (net.ipv4.ip_forward=0, the IPv6 "all" forwarding
// off) drops it: measured between namespaces (TestNoForward), the kernel sends nothing back (no
// ICMP: ip_error keeps quiet when the input device does not forward; Ip: InAddrErrors counts
// it), so a scanner sees the port filtered, whatever the forward chains say.

// ForwardState is whether a namespace forwards one family's packets.
type ForwardState uint8

// The states: not read (the verdict is the rules' alone), forwarding, not forwarding.
const (
	ForwardUnknown ForwardState = iota
	ForwardOn
	ForwardOff
)

// Forwarding is a namespace's forwarding, per family.
type Forwarding struct {
	V4, V6 ForwardState
}

// SetForwarding gives the ruleset its namespace's forwarding (ReadForwarding).
func (r *Ruleset) SetForwarding(f Forwarding) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if f == r.forwarding {
		return
	}
	r.forwarding = f
	r.memo, r.pub = nil, nil
}

// forwardingOf is the state of a family.
func (r *Ruleset) forwardingOf(v6 bool) ForwardState {
	r.mu.Lock()
	defer r.mu.Unlock()
	if v6 {
		return r.forwarding.V6
	}
	return r.forwarding.V4
}

// notForwarded is the verdict for a published port of a family the namespace does not forward.
func notForwarded(v6 bool) Verdict {
	return Verdict{Kind: Filtered, Note: "not forwarded (" + forwardSetting(v6) +
		"): the kernel drops the DNATed packet without an answer, whatever the forward rules say"}
}

// forwardSetting is the sysctl that turned a family's forwarding off, as an admin reads it.
func forwardSetting(v6 bool) string {
	if v6 {
		return "net.ipv6.conf.all.forwarding = 0"
	}
	return "net.ipv4.ip_forward = 0"
}

// ReadForwarding reads the forwarding of the network namespace of pid (0: our own): IPv4 from
// "Ip: Forwarding" in /proc/PID/net/snmp (1 forwards, 2 does not), which shows that namespace;
// IPv6 from /proc/sys/net/ipv6/conf/all/forwarding, which shows the namespace of the thread that
// opens it, so it is opened from inside (a locked thread, as the ruleset is read: root only). A
// value not read stays ForwardUnknown.
func ReadForwarding(pid int) Forwarding {
	var f Forwarding
	h, err := openNS(pid)
	if err != nil {
		return f
	}
	defer h.close()
	if b, err := readSmall(h.procNet()+"/snmp", 64<<10); err == nil {
		f.V4 = parseSnmpForwarding(b)
	}
	_ = h.inNS(func() error {
		b, err := readSmall("/proc/sys/net/ipv6/conf/all/forwarding", 64)
		if err == nil {
			f.V6 = parseSysctlBool(b)
		}
		return err
	})
	return f
}

// readSmall reads at most limit bytes of a /proc file.
func readSmall(path string, limit int64) ([]byte, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	return io.ReadAll(io.LimitReader(file, limit))
}

// parseSnmpForwarding finds the Forwarding column of the first "Ip:" header line in the "Ip:"
// line after it (hostile text: anything else is unknown).
func parseSnmpForwarding(b []byte) ForwardState {
	sc := bufio.NewScanner(bytes.NewReader(b))
	var header []string
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 || f[0] != "Ip:" {
			continue
		}
		if header == nil {
			header = f
			continue
		}
		for i, name := range header {
			if name == "Forwarding" && i < len(f) {
				switch f[i] {
				case "1":
					return ForwardOn
				case "2":
					return ForwardOff
				}
			}
		}
		return ForwardUnknown
	}
	return ForwardUnknown
}

// parseSysctlBool reads a sysctl's integer: 0 is off, any other number on.
func parseSysctlBool(b []byte) ForwardState {
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	switch {
	case err != nil:
		return ForwardUnknown
	case n == 0:
		return ForwardOff
	}
	return ForwardOn
}
