//go:build linux

package firewall

import (
	"fmt"
	"net/netip"
	"strconv"

	"github.com/google/nftables/expr"
	"github.com/google/nftables/xt"
	"golang.org/x/sys/unix"
)

// The renderer's statements: each kind writes its own text ("accept", "reject with tcp reset",
// "limit rate 10/second", "add @meter { ip saddr limit rate 5/second }").

// statement is the text of a statement, or the name of an expression the renderer does not know.
func (rd *renderer) statement(n node) string {
	switch e := n.e.(type) {
	case *expr.Verdict:
		return verdictText(e)
	case *expr.Reject:
		return rd.reject(e)
	case *expr.Counter:
		return "counter"
	case *expr.Log:
		return logText(e)
	case *expr.Limit:
		return limitText(e)
	case *expr.Quota:
		return fmt.Sprintf("quota %s%d bytes", overWord(e.Over), e.Bytes)
	case *expr.Connlimit:
		return fmt.Sprintf("ct count %s%d", overWord(e.Flags&1 != 0), e.Count)
	case *expr.Objref:
		return objrefText(e)
	case *expr.Dynset:
		return rd.dynsetText(e)
	case *expr.Match:
		return xtMatchText(e)
	case *expr.Target:
		return "xt target " + strconv.Quote(e.Name)
	case *expr.NAT:
		return rd.natText(e)
	case *expr.Notrack:
		return "notrack"
	}
	return n.name // not decoded, or a kind the renderer does not know
}

func verdictText(e *expr.Verdict) string {
	w := verdictWord(e.Kind)
	if e.Kind == expr.VerdictJump || e.Kind == expr.VerdictGoto {
		w += " " + e.Chain
	}
	return w
}

func logText(e *expr.Log) string {
	if len(e.Data) > 0 {
		return "log prefix " + strconv.Quote(string(e.Data))
	}
	return "log"
}

// overWord is how nft writes an inverted limit, quota or ct count.
func overWord(over bool) string {
	if over {
		return "over "
	}
	return ""
}

var limitUnits = map[expr.LimitTime]string{expr.LimitTimeSecond: "second", expr.LimitTimeMinute: "minute",
	expr.LimitTimeHour: "hour", expr.LimitTimeDay: "day", expr.LimitTimeWeek: "week"}

func limitText(e *expr.Limit) string {
	u := limitUnits[e.Unit]
	if u == "" {
		u = fmt.Sprintf("%ds", e.Unit)
	}
	what := ""
	if e.Type == expr.LimitTypePktBytes {
		what = " bytes"
	}
	s := fmt.Sprintf("limit rate %s%d%s/%s", overWord(e.Over), e.Rate, what, u)
	if e.Burst > 0 && e.Burst != 5 { // 5 is nft's default, which it does not print
		s += fmt.Sprintf(" burst %d packets", e.Burst)
	}
	return s
}

// objectKinds are the stateful objects a rule can name (NFT_OBJECT_*).
var objectKinds = map[int]string{1: "counter", 2: "quota", 3: "ct helper", 4: "limit"}

func objrefText(e *expr.Objref) string {
	k := objectKinds[e.Type]
	if k == "" {
		k = fmt.Sprintf("object type %d", e.Type)
	}
	return k + " name " + strconv.Quote(e.Name)
}

// dynsetText is a meter or a set update from the packet path: "add @m { ip saddr limit rate 5/second }".
func (rd *renderer) dynsetText(e *expr.Dynset) string {
	op := "add"
	if e.Operation == 1 { // NFT_DYNSET_OP_UPDATE
		op = "update"
	}
	inner := rd.get(e.SrcRegKey).name
	for _, x := range e.Exprs {
		switch y := x.(type) {
		case *expr.Limit:
			inner += " " + limitText(y)
		case *expr.Counter:
			inner += " counter"
		default:
			inner += " ..."
		}
	}
	return fmt.Sprintf("%s @%s { %s }", op, e.SetName, inner)
}

// xtMatchText: iptables-nft's comment match reads as nft's comment; other xtables matches by name.
func xtMatchText(e *expr.Match) string {
	if c, ok := e.Info.(*xt.Comment); ok {
		return "comment " + strconv.Quote(string(*c))
	}
	return "xt match " + strconv.Quote(e.Name)
}

// natText writes a NAT as nft does, with where it sends the packets when immediates set its
// registers ("dnat to 172.17.0.2:80"): the DNAT of a published port says where it goes.
func (rd *renderer) natText(e *expr.NAT) string {
	w := "snat"
	if e.Type == expr.NATTypeDestNAT {
		w = "dnat"
	}
	var addr netip.Addr
	if f, ok := rd.regs[regSlot(e.RegAddrMin)]; ok && e.RegAddrMin != 0 && f.kind == fConst {
		addr, _ = netip.AddrFromSlice(f.value)
	}
	var port uint16
	hasPort := false
	if f, ok := rd.regs[regSlot(e.RegProtoMin)]; ok && e.RegProtoMin != 0 && f.kind == fConst && len(f.value) == 2 {
		port, hasPort = uint16(f.value[0])<<8|uint16(f.value[1]), true
	}
	switch {
	case addr.IsValid() && hasPort:
		return w + " to " + netip.AddrPortFrom(addr.Unmap(), port).String()
	case addr.IsValid():
		return w + " to " + addr.Unmap().String()
	case hasPort:
		return w + " to :" + strconv.Itoa(int(port))
	}
	return w
}

// icmpxCodes, icmpCodes and icmpv6Codes are the reject codes nft names, by family.
var (
	icmpxCodes  = []string{"no-route", "port-unreachable", "host-unreachable", "admin-prohibited"}
	icmpCodes   = map[uint8]string{0: "net-unreachable", 1: "host-unreachable", 2: "prot-unreachable", 3: "port-unreachable", 13: "admin-prohibited"}
	icmpv6Codes = map[uint8]string{0: "no-route", 1: "admin-prohibited", 3: "addr-unreachable", 4: "port-unreachable"}
)

// reject writes a reject as nft does: a port unreachable is its default ("reject").
func (rd *renderer) reject(e *expr.Reject) string {
	switch e.Type {
	case unix.NFT_REJECT_TCP_RST:
		return "reject with tcp reset"
	case unix.NFT_REJECT_ICMPX_UNREACH:
		if e.Code == unix.NFT_REJECT_ICMPX_PORT_UNREACH {
			return "reject"
		}
		if int(e.Code) < len(icmpxCodes) {
			return "reject with icmpx " + icmpxCodes[e.Code]
		}
	case unix.NFT_REJECT_ICMP_UNREACH:
		word, codes, port := "icmp", icmpCodes, uint8(3) // ICMP_PORT_UNREACH
		if rd.r.chain.table.family == famIPv6 {
			word, codes, port = "icmpv6", icmpv6Codes, 4 // ICMPV6_PORT_UNREACH
		}
		if e.Code == port {
			return "reject"
		}
		if n, ok := codes[e.Code]; ok {
			return "reject with " + word + " " + n
		}
	}
	return fmt.Sprintf("reject type %d code %d", e.Type, e.Code)
}
