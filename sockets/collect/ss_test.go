//go:build linux

package collect

import (
	"fmt"
	"net/netip"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/portwatch/portwatch/sockets"
)

// ssSocket is one line of ss's output, in portwatch's words.
type ssSocket struct {
	line          string
	proto         sockets.Proto
	state         string
	local, remote string // as normSS writes them
	inode         uint64
	pids          []int // every process ss names, each once, lowest first
}

// ssListing is every TCP and UDP socket ss lists.
type ssListing []ssSocket

// ssStates maps ss's state names to portwatch's. ss writes a TCP socket in
// CLOSE state as UNCONN, as it does an unconnected UDP socket.
var ssStates = map[string]string{"ESTAB": "ESTABLISHED", "LISTEN": "LISTEN", "TIME-WAIT": "TIME_WAIT",
	"CLOSE-WAIT": "CLOSE_WAIT", "SYN-SENT": "SYN_SENT", "SYN-RECV": "SYN_RECV", "FIN-WAIT-1": "FIN_WAIT1",
	"FIN-WAIT-2": "FIN_WAIT2", "LAST-ACK": "LAST_ACK", "CLOSING": "CLOSING", "UNCONN": "CLOSE"}

var (
	ssPID   = regexp.MustCompile(`pid=(\d+)`)
	ssInode = regexp.MustCompile(`\bino:(\d+)`)
)

// runSS lists the machine's sockets with `ss -H -tanpe state all` and
// `ss -H -uanpe state all`; ok is false when ss is not installed.
//
// The TCP request is that of iproute2 6.1, which asks the kernel for every
// real TCP state. Later releases add the bound-inactive pseudo-state to
// "all", and the kernel then lists TCP sockets that are only bound, which
// portwatch does not ask for (see diagStates): such an ss is asked to
// leave them out, so that this comparison means the same on every machine.
func runSS(t *testing.T) (listing ssListing, ok bool) {
	t.Helper()
	if _, err := exec.LookPath("ss"); err != nil {
		return nil, false
	}
	tcp := []string{"-H", "-tanpe", "state", "all"}
	if exec.Command("ss", "-H", "-tan", "state", "bound-inactive").Run() == nil {
		tcp = append(tcp, "exclude", "bound-inactive")
	}
	for _, c := range []struct {
		proto sockets.Proto
		args  []string
	}{{sockets.TCP, tcp}, {sockets.UDP, []string{"-H", "-uanpe", "state", "all"}}} {
		out, err := exec.Command("ss", c.args...).Output()
		if err != nil {
			t.Fatalf("ss %s: %v", strings.Join(c.args, " "), err)
		}
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			if s, ok := parseSSLine(line, c.proto); ok {
				listing = append(listing, s)
			}
		}
	}
	if len(listing) == 0 {
		t.Fatal("ss listed no socket at all, not even the test's")
	}
	return listing, true
}

// parseSSLine reads "State Recv-Q Send-Q Local Peer users:((...)) ino:N ...".
func parseSSLine(line string, proto sockets.Proto) (ssSocket, bool) {
	f := strings.Fields(line)
	if len(f) < 5 {
		return ssSocket{}, false
	}
	s := ssSocket{line: line, proto: proto, state: ssStates[f[0]], local: normSS(f[3]), remote: normSS(f[4])}
	if s.state == "" {
		s.state = "ss:" + f[0]
	}
	if proto == sockets.UDP {
		s.state = sockets.StateUnconnected
		if f[0] == "ESTAB" {
			s.state = sockets.StateEstablished
		}
	}
	if m := ssInode.FindStringSubmatch(line); m != nil {
		s.inode, _ = strconv.ParseUint(m[1], 10, 64)
	}
	for _, m := range ssPID.FindAllStringSubmatch(line, -1) {
		pid, _ := strconv.Atoi(m[1])
		if !slices.Contains(s.pids, pid) {
			s.pids = append(s.pids, pid)
		}
	}
	slices.Sort(s.pids)
	return s, true
}

// of lists what ss says of one of the test's sockets.
func (l ssListing) of(o *ownSockets, name string) []string {
	var out []string
	for _, s := range l {
		if n, ok := o.match(s.proto, s.inode, s.local, s.remote); ok && n == name {
			out = append(out, fmt.Sprintf("%s %s -> %s %s ino=%d pids=%v", s.proto, s.local, s.remote, s.state, s.inode, s.pids))
		}
	}
	slices.Sort(out)
	return out
}

// ssDescribe says what a path lists as ss would: endpoints written ss's
// way ("*" for a dual-stack wildcard), the state and every owner's pid.
func ssDescribe(socks []sockets.Socket) []string {
	var out []string
	for _, s := range socks {
		out = append(out, fmt.Sprintf("%s %s -> %s %s ino=%d pids=%v", s.Proto, ssEndpoint(s.Local, s.LPort, s.DualStack),
			ssEndpoint(s.Remote, s.RPort, s.DualStack), s.State, s.Inode, ownerPIDs(s)))
	}
	slices.Sort(out)
	return out
}

// sayAbsent writes a list of descriptions, "absent" for none.
func sayAbsent(d []string) string {
	if len(d) == 0 {
		return "absent"
	}
	return strings.Join(d, " | ")
}

// ssEndpoint writes an endpoint as ss does: "*" for a dual-stack wildcard,
// brackets for IPv6, "*" for port 0.
func ssEndpoint(a netip.Addr, port uint16, dual bool) string {
	host := a.String()
	if dual {
		host = "*"
	} else if a.Is6() {
		host = "[" + host + "]"
	}
	p := strconv.Itoa(int(port))
	if port == 0 {
		p = "*"
	}
	return host + ":" + p
}

// normSS drops the interface ("%lo") and unmaps "[::ffff:1.2.3.4]".
func normSS(ep string) string {
	i := strings.LastIndexByte(ep, ':')
	if i < 0 {
		return ep
	}
	host, port := ep[:i], ep[i+1:]
	if j := strings.IndexByte(host, '%'); j >= 0 {
		host = host[:j]
		if strings.HasPrefix(host, "[") {
			host += "]"
		}
	}
	if strings.HasPrefix(host, "[::ffff:") && strings.Count(host, ".") == 3 {
		host = strings.TrimSuffix(strings.TrimPrefix(host, "[::ffff:"), "]")
	}
	return host + ":" + port
}

// TestParseSSLine: the parser reads every field the comparisons use, the
// state of a TCP socket in CLOSE state included.
func TestParseSSLine(t *testing.T) {
	cases := []struct {
		line  string
		proto sockets.Proto
		want  ssSocket
	}{
		{`LISTEN 0 128 127.0.0.1:40921 0.0.0.0:* users:(("python3",pid=12476,fd=3),("sleep",pid=99,fd=3),("python3",pid=12476,fd=9)) ino:42389 sk:1 cgroup:/ <->`,
			sockets.TCP, ssSocket{state: "LISTEN", local: "127.0.0.1:40921", remote: "0.0.0.0:*", inode: 42389, pids: []int{99, 12476}}},
		{`TIME-WAIT 0 0 127.0.0.1:36416 127.0.0.1:40921 timer:(timewait,59sec,0) ino:0 sk:1119`,
			sockets.TCP, ssSocket{state: "TIME_WAIT", local: "127.0.0.1:36416", remote: "127.0.0.1:40921"}},
		{`ESTAB 0 0 [::ffff:127.0.0.1]:35143 [::ffff:127.0.0.1]:46524 users:(("x y",pid=7,fd=9)) ino:5 sk:11 cgroup:/ <->`,
			sockets.TCP, ssSocket{state: "ESTABLISHED", local: "127.0.0.1:35143", remote: "127.0.0.1:46524", inode: 5, pids: []int{7}}},
		{`UNCONN 0 0 127.0.0.1:5000 0.0.0.0:* users:(("x",pid=7,fd=4)) ino:6 sk:2 <->`,
			sockets.TCP, ssSocket{state: "CLOSE", local: "127.0.0.1:5000", remote: "0.0.0.0:*", inode: 6, pids: []int{7}}},
		{`UNCONN 0 0 *:48216 *:* users:(("x",pid=7,fd=13)) ino:42400 sk:73 cgroup:/ v6only:0 <->`,
			sockets.UDP, ssSocket{state: "UNCONN", local: "*:48216", remote: "*:*", inode: 42400, pids: []int{7}}},
		{`ESTAB 0 0 [fe80::1%lo]:50351 [fe80::2%lo]:43785 ino:7`,
			sockets.UDP, ssSocket{state: "ESTABLISHED", local: "[fe80::1]:50351", remote: "[fe80::2]:43785", inode: 7}},
	}
	for _, c := range cases {
		got, ok := parseSSLine(c.line, c.proto)
		c.want.line, c.want.proto = c.line, c.proto
		if !ok || fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", c.line, got, c.want)
		}
	}
}
