//go:build linux

package collect

import (
	"os"
	"testing"

	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/sockettest"
)

// A section's counters are read by their names in its header line, from
// its value line; another section whose name starts the same, a value
// that is not a number, a header without values are left out.
func TestParseCountersOfASection(t *testing.T) {
	text := "TcpExt: SyncookiesSent EmbryonicRsts ListenOverflows ListenDrops\n" +
		"TcpExt: 0 17 3 4\n" +
		"Tcp: RtoAlgorithm ActiveOpens PassiveOpens OutRsts InErrs\n" +
		"Tcp: 1 200 123 18446744073709551615 x\n" +
		"Udp: InDatagrams OutRsts\nUdp: 5 99\n"
	var c sockets.TCPCounters
	parseCounters([]byte(text), "Tcp", &c)
	if c != (sockets.TCPCounters{PassiveOpens: 123, OutRsts: 18446744073709551615}) {
		t.Errorf("Tcp: %+v", c)
	}
	c = sockets.TCPCounters{}
	parseCounters([]byte(text), "TcpExt", &c)
	if c != (sockets.TCPCounters{EmbryonicRsts: 17, ListenOverflows: 3, ListenDrops: 4}) {
		t.Errorf("TcpExt: %+v", c)
	}
	for name, bad := range map[string]string{
		"no value line":       "Tcp: PassiveOpens OutRsts\n",
		"not numbers":         "Tcp: PassiveOpens OutRsts\nTcp: -1 1e3\n",
		"past 64 bits":        "Tcp: PassiveOpens\nTcp: 18446744073709551616\n",
		"values without name": "Tcp:\nTcp: 1 2 3\n",
		"empty":               "",
		"the section unnamed": ": PassiveOpens\n: 5\n",
	} {
		c = sockets.TCPCounters{}
		parseCounters([]byte(bad), "Tcp", &c)
		if c != (sockets.TCPCounters{}) {
			t.Errorf("%s: %+v", name, c)
		}
	}
}

// This namespace's counters, read from /proc: an accepted connection
// counts among the passive opens (other programs may accept too: the
// counter rises by one at least). Reading them allocates only the paths:
// the files were read into new buffers, scanned line by line and split
// into strings, some 50 allocations a namespace a poll.
func TestReadTCPCountersOfThisNamespace(t *testing.T) {
	if !alone(t) {
		return
	}
	before, ok := readTCPCounters("/proc/self")
	if !ok {
		t.Skip("/proc/self/net/snmp or netstat cannot be read here")
	}
	ln := sockettest.Listen(t, "tcp", "127.0.0.1:0")
	sockettest.Connect(t, ln)
	after, ok := readTCPCounters("/proc/self")
	if !ok || after.PassiveOpens < before.PassiveOpens+1 {
		t.Errorf("passive opens %d, then %d after an accept", before.PassiveOpens, after.PassiveOpens)
	}
	if allocs := testing.AllocsPerRun(20, func() { readTCPCounters("/proc/self") }); allocs > 4 {
		t.Errorf("%.0f allocations to read a namespace's counters, want at most 4 (the paths)", allocs)
	}
	data, err := os.ReadFile("/proc/self/net/netstat")
	if err != nil {
		t.Fatal(err)
	}
	var got sockets.TCPCounters
	if allocs := testing.AllocsPerRun(20, func() { parseCounters(data, "TcpExt", &got) }); allocs != 0 {
		t.Errorf("parsing netstat: %.0f allocations, want 0", allocs)
	}
}
