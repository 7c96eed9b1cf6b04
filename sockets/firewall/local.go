//go:build linux

package firewall

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"io"
	"net/netip"
	"os"
	"sort"
	"strconv"
	"strings"
)

// The namespace's own addresses: a wildcard listener is reached on each of them, and a rule that
// matches destinations can treat them differently (firewalld's link-local DHCPv6 rule, Docker's
// drop of direct access to a container's address). They are read from the namespace's /proc/net
// (fib_trie's local routes for IPv4, if_inet6 for IPv6), hostile text parsed strictly and bounded.

// maxLocalAddrs bounds what is kept: a machine with more addresses is evaluated symbolically.
const maxLocalAddrs = 256

// LocalAddrs are the non-loopback addresses of the network namespace of pid (0: our own).
func LocalAddrs(pid int) ([]netip.Addr, error) {
	dir := "/proc/self/net"
	if pid != 0 {
		dir = fmt.Sprintf("/proc/%d/net", pid)
	}
	var out []netip.Addr
	if f, err := os.Open(dir + "/fib_trie"); err == nil {
		out = append(out, parseFibTrie(io.LimitReader(f, 1<<20))...)
		f.Close()
	}
	if f, err := os.Open(dir + "/if_inet6"); err == nil {
		out = append(out, parseIfInet6(io.LimitReader(f, 1<<20))...)
		f.Close()
	}
	return sortedAddrs(out), nil
}

// parseFibTrie takes the addresses of /32 host LOCAL entries ("|-- 10.0.0.5" then
// "/32 host LOCAL").
func parseFibTrie(r io.Reader) []netip.Addr {
	var out []netip.Addr
	var last netip.Addr
	sc := bufio.NewScanner(r)
	for sc.Scan() && len(out) < maxLocalAddrs*4 {
		line := strings.TrimSpace(sc.Text())
		if rest, ok := strings.CutPrefix(line, "|-- "); ok {
			last, _ = netip.ParseAddr(rest)
			continue
		}
		if line == "/32 host LOCAL" && last.IsValid() && last.Is4() && !last.IsLoopback() {
			out = append(out, last)
		}
	}
	return out
}

// parseIfInet6 takes the addresses of /proc/net/if_inet6 ("hex32 ifindex plen scope flags name"),
// but loopback ones and those not usable yet (tentative or failed duplicate detection).
func parseIfInet6(r io.Reader) []netip.Addr {
	const tentative, dadFailed = 0x40, 0x08
	var out []netip.Addr
	sc := bufio.NewScanner(r)
	for sc.Scan() && len(out) < maxLocalAddrs*4 {
		f := strings.Fields(sc.Text())
		if len(f) != 6 || len(f[0]) != 32 {
			continue
		}
		b, err := hex.DecodeString(f[0])
		flags, ferr := strconv.ParseUint(f[4], 16, 32)
		if err != nil || ferr != nil || flags&(tentative|dadFailed) != 0 {
			continue
		}
		a := netip.AddrFrom16([16]byte(b))
		if !a.IsLoopback() {
			out = append(out, a)
		}
	}
	return out
}

func sortedAddrs(as []netip.Addr) []netip.Addr {
	sort.Slice(as, func(i, j int) bool { return as[i].Less(as[j]) })
	out := as[:0]
	for i, a := range as {
		if i == 0 || a != as[i-1] {
			out = append(out, a)
		}
	}
	if len(out) > maxLocalAddrs {
		return nil // too many to judge one by one: the symbolic verdict stands
	}
	return out
}

// SetLocal gives the ruleset its namespace's addresses (LocalAddrs); verdicts remembered for
// other addresses are forgotten.
func (r *Ruleset) SetLocal(addrs []netip.Addr) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(addrs) == len(r.local) {
		same := true
		for i := range addrs {
			if addrs[i] != r.local[i] {
				same = false
			}
		}
		if same {
			return
		}
	}
	r.local = append([]netip.Addr(nil), addrs...)
	r.memo, r.pub = nil, nil
}

// localsOf are the namespace's addresses of one family.
func (r *Ruleset) localsOf(v6 bool) []netip.Addr {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []netip.Addr
	for _, a := range r.local {
		if a.Is6() == v6 {
			out = append(out, a)
		}
	}
	return out
}
