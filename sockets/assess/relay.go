package assess

import (
	"strings"

	"github.com/portwatch/portwatch/sockets"
)

// relayTarget is the address a socat listener relays its connections to
// (socat TCP-LISTEN:8080,fork TCP:10.0.0.5:22 gives "10.0.0.5:22"), or ""
// where the command line is no such relay. A relay is a pivot, not a
// shell: it is named for what it does. Recognised on any executable, as a
// renamed socat keeps its arguments; a program it runs (EXEC:, SYSTEM:) is
// execWords' to say.
func relayTarget(p *sockets.Process) string {
	if !strings.Contains(p.Cmdline, "LISTEN") && !strings.Contains(p.Cmdline, "listen") {
		return "" // most command lines: said without splitting them
	}
	var addrs []string
	for _, a := range strings.Fields(p.Cmdline)[1:] {
		if !strings.HasPrefix(a, "-") {
			addrs = append(addrs, a)
		}
	}
	if len(addrs) != 2 || !strings.Contains(strings.ToUpper(strings.SplitN(addrs[0], ",", 2)[0]), "-LISTEN") {
		return ""
	}
	kind, rest, ok := strings.Cut(addrs[1], ":")
	if !ok {
		return ""
	}
	switch strings.ToUpper(kind) {
	case "TCP", "TCP4", "TCP6", "UDP", "UDP4", "UDP6", "OPENSSL", "SCTP", "SOCKS4", "SOCKS4A", "PROXY":
		return strings.SplitN(rest, ",", 2)[0]
	}
	return ""
}
