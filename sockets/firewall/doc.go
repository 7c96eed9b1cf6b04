// Package firewall reads a network namespace's firewall (nftables) and says, for a listener,
// whether a new connection from outside can reach it.
//
// It imports no other portwatch package: the data model adapts to it.
//
// # API
//
//	rs, err := firewall.Read(pid)                  // one namespace's ruleset, read once (pid 0: our own)
//	v := rs.Evaluate("tcp", listenAddr, 22)         // a Verdict: open, restricted, filtered, closed, unknown
//	v.From(src)                                     // what a client at src meets
//
//	var c firewall.Cache                            // one per monitor
//	rs, err := c.Ruleset(pid, nsInode)              // re-read only when the generation id changed
//
// Read talks netlink (NETLINK_NETFILTER) directly, with github.com/mdlayher/netlink and
// google/nftables' expression decoders; no nft binary is needed at run time. For another namespace
// it opens the netlink socket inside it: a locked OS thread enters the namespace (setns), opens the
// socket, and comes back. It reads the generation id before and after the dumps (tables, chains,
// sets and their elements, rules) and reads again if it moved.
//
// google/nftables' own listing functions are not used: they skip expressions they cannot decode
// and fail a whole listing on a set type they do not know, and an evaluator that must never guess
// cannot lose an expression. Here an expression that is not decoded stays in the rule as a name,
// and the evaluator never decides past it.
//
// # What a verdict means
//
// Evaluate runs the ruleset on the first packet of a new connection (conntrack state new) from a
// non-local address (never arriving on lo) to the listener's address and port. The source address
// stays symbolic: the evaluator carries sets of sources through the rules, so an accept that
// depends on the source gives Restricted, with the accepted sources (Sources) or, for a block list,
// the refused ones (Except), and what the others meet (Others).
//
// The packet crosses, in this order, every base chain on its way: netdev and inet ingress chains
// and bridge prerouting/input chains (crossed only by packets from their device or through a
// bridge, so the evaluator follows both ways), then prerouting chains, then input chains, each hook
// in priority order across tables (ip and inet for IPv4, ip6 and inet for IPv6). The packet must be
// accepted by every one: an accept ends only its own base chain, a drop or reject anywhere ends it
// all. Within a chain: rules in order, jump (and return), goto, return, the chain's policy at the
// end of a base chain. A reject with a TCP reset or an ICMP port unreachable (nft's default) is
// Closed; a reject with another ICMP unreachable (admin-prohibited, host-unreachable) makes the
// connection fail as unreachable, which a scanner reports as filtered: Filtered.
//
// A wildcard listener on "::" (or the zero netip.Addr) is taken as dual-stack and evaluated for
// IPv4 and IPv6; when they differ, the verdict is the more exposed one (open, then unknown,
// restricted, closed, filtered) and ByFamily holds both. A loopback listener is Filtered: outside
// traffic cannot reach it. No nftables table at all, or no base chain on the path: Open with Note
// "no firewall" and Rule "".
//
// # Expressions evaluated
//
//   - meta l4proto, meta nfproto, meta protocol, meta pkttype (host), ip protocol, ip6 nexthdr
//     (no extension headers), ip version;
//   - tcp dport, udp dport, th dport: equal, not equal, ranges (as nft writes them: >= and <=, or a
//     range expression), anonymous and named sets (hash and interval), verdict maps
//     (tcp dport vmap { 22 : accept, 23 : drop }), maps, catch-all elements;
//   - ip saddr, ip6 saddr: prefixes (nft's byte loads and masks), ranges, sets and interval sets,
//     concatenations of the source with known fields (ip saddr . tcp dport @svc), vmaps on the
//     source;
//   - ip daddr, ip6 daddr: against the listener's address; for a wildcard listener only matches that
//     hold for every non-loopback address (or for none) are decided;
//   - ct state (new; invalid before conntrack, in a prerouting chain of priority below -200),
//     ct direction (original), ct status (a new entry: not expected, no reply seen, not assured,
//     not confirmed, not natted), ct protocol, ct l3proto, and verdict maps on them;
//   - iifname "lo", iif "lo" and sets holding only lo: never true for outside traffic (so
//     iifname != "lo" always holds);
//   - bitwise (mask and xor), byteorder, immediate;
//   - verdicts accept, drop, reject (nft and the xtables REJECT target), jump, goto, return,
//     continue;
//   - counter, log, the xtables LOG target, named counters: no-ops; limit, named limits, meters
//     with a limit (dynset): the rule is taken as matching, with a note ("rate-limited: ...");
//   - meta mark set and ct mark set in an input chain: no-ops (they cannot change the verdict);
//   - iptables-nft's xtables matches: comment (always true), tcp and udp (destination ports),
//     conntrack and state (--ctstate).
//
// # Unknown
//
// Anything else never gets a guess. A condition the evaluator cannot decide (meta mark, fib,
// socket, tcp flags, the source port, an input interface other than lo, quota, ct count, other
// xtables matches such as multiport, other ct keys, a shifted bitwise) is followed both ways:
// when the outcomes are the same (a counter rule with no verdict, an accept followed by an accept)
// it does not matter; when they differ the verdict is Unknown, and Reason and Rule name the rule.
// A statement the evaluator does not model on the way (nat, redirect, queue, notrack, tproxy,
// payload or meta set before routing, other xtables targets, an expression google/nftables cannot
// decode) makes the verdict Unknown naming that rule. So do:
//   - legacy iptables (x_tables, not nftables) with a rule, or a policy other than ACCEPT, in a
//     prerouting or input chain of the family: Reason "legacy iptables not evaluated" (empty
//     legacy tables with ACCEPT policies, as the ip_tables module creates them, are harmless);
//   - a ruleset the caller may not read (EPERM: not root, no CAP_NET_ADMIN): Reason
//     "not root: the ruleset cannot be read (needs CAP_NET_ADMIN)";
//   - a protocol other than tcp and udp.
//
// Rules are written in nft syntax prefixed by where they live and followed by their handle:
// "chain inet filter input: tcp dport 22 accept # handle 4", and a policy as
// "chain inet filter input: policy drop".
//
// # Cost
//
// A Cache keeps one netlink socket per namespace and asks only for the generation id while the
// ruleset does not change: a few tens of microseconds per namespace per poll. A full read with 100
// evaluations is a few milliseconds; verdicts are remembered per ruleset, so an unchanged firewall
// evaluates each listener once.
package firewall
