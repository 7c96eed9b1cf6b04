//go:build linux

package firewall

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/google/nftables/expr"
	"github.com/google/nftables/xt"
	"golang.org/x/sys/unix"
)

// A small renderer of rules in nft syntax, for the expressions the evaluator knows (and a readable
// approximation of the others): "ip saddr 10.0.0.0/8 tcp dport 5432 accept",
// "tcp dport @allowed accept", "tcp dport vmap { 22 : accept, 23 : drop }".

type fkind int

const (
	fHex fkind = iota
	fPort
	fAddr
	fProto
	fNfproto
	fEther
	fCtState
	fCtStatus
	fIfname
	fIfindex
	fMark
	fPkttype
	fDir
	fConst
)

type field struct {
	name   string
	kind   fkind
	prefix int // address: bits compared, -1 for all
	mask   []byte
	value  []byte // fConst: an immediate
	dep    string
	n      int // bytes it takes in the registers
}

type renderer struct {
	rs      *Ruleset
	r       *rule
	regs    map[int]field
	toks    []string
	depTok  int    // index of the last protocol dependency token, -1 if the last token is not one
	depKind string // "l3" or "l4"
	l3, l4  string // what earlier matches fixed: "ip"/"ip6", "tcp"/"udp"
}

func renderRule(rs *Ruleset, r *rule) string {
	rd := &renderer{rs: rs, r: r, regs: map[int]field{}, depTok: -1}
	switch r.chain.table.family {
	case famIPv4:
		rd.l3 = "ip"
	case famIPv6:
		rd.l3 = "ip6"
	}
	for _, n := range r.nodes {
		rd.node(n)
	}
	out := strings.Join(rd.toks, " ")
	if r.comment != "" {
		out += " comment " + strconv.Quote(r.comment)
	}
	if out == "" {
		out = "(empty rule)"
	}
	return out
}

func (rd *renderer) emit(tok string, dep bool) {
	rd.toks = append(rd.toks, tok)
	rd.depTok = -1
	if dep {
		rd.depTok = len(rd.toks) - 1
	}
}

// elide drops the protocol match just before a field that implies it ("meta l4proto tcp" before
// "tcp dport").
func (rd *renderer) elide(kind string) {
	if rd.depTok >= 0 && rd.depTok == len(rd.toks)-1 && rd.depKind == kind {
		rd.toks = rd.toks[:rd.depTok]
	}
	rd.depTok = -1
}

func (rd *renderer) set(reg uint32, f field) {
	if s := regSlot(reg); s >= 0 {
		f.prefix = -1
		rd.regs[s] = f
	}
}

func (rd *renderer) get(reg uint32) field {
	if f, ok := rd.regs[regSlot(reg)]; ok {
		return f
	}
	return field{name: fmt.Sprintf("reg %d", reg), prefix: -1}
}

func (rd *renderer) node(n node) {
	switch e := n.e.(type) {
	case nil:
		rd.emit(n.name, false)
	case *expr.Meta:
		f := metaField(e.Key)
		f.n = metaLen(e.Key)
		if e.SourceRegister {
			rd.emit(f.name+" set "+rd.value(rd.get(e.Register)), false)
			return
		}
		rd.set(e.Register, f)
	case *expr.Ct:
		f := ctField(e.Key)
		f.n = 4
		if e.Key == expr.CtKeyDIRECTION || e.Key == expr.CtKeyPROTOCOL {
			f.n = 1
		}
		if e.SourceRegister {
			rd.emit(f.name+" set "+rd.value(rd.get(e.Register)), false)
			return
		}
		rd.set(e.Register, f)
	case *expr.Payload:
		f := rd.payloadField(e)
		f.n = int(e.Len)
		if e.OperationType != expr.PayloadLoad {
			rd.emit(f.name+" set "+rd.value(rd.get(e.SourceRegister)), false)
			return
		}
		rd.set(e.DestRegister, f)
	case *expr.Immediate:
		rd.set(e.Register, field{name: "0x" + hex.EncodeToString(e.Data), kind: fConst, value: e.Data})
	case *expr.Bitwise:
		f := rd.get(e.SourceRegister)
		if f.kind == fAddr && allZero(e.Xor) {
			f.mask = e.Mask
		} else if (f.kind == fCtState || f.kind == fCtStatus) && allZero(e.Xor) {
			f.mask = e.Mask
		} else {
			f = field{name: f.name + " & 0x" + hex.EncodeToString(e.Mask) + " ^ 0x" + hex.EncodeToString(e.Xor), prefix: -1}
		}
		if s := regSlot(e.DestRegister); s >= 0 {
			rd.regs[s] = f
		}
	case *expr.Byteorder:
		f := rd.get(e.SourceRegister)
		if s := regSlot(e.DestRegister); s >= 0 {
			rd.regs[s] = f
		}
	case *expr.Cmp:
		rd.cmp(rd.get(e.Register), e.Op, e.Data)
	case *expr.Range:
		f := rd.get(e.Register)
		op := ""
		if e.Op == expr.CmpOpNeq {
			op = "!= "
		}
		rd.fieldTok(f, op+rd.format(f, e.FromData)+"-"+rd.format(f, e.ToData))
	case *expr.Lookup:
		rd.lookup(e)
	case *expr.Verdict:
		w := verdictWord(e.Kind)
		if e.Kind == expr.VerdictJump || e.Kind == expr.VerdictGoto {
			w += " " + e.Chain
		}
		rd.emit(w, false)
	case *expr.Reject:
		rd.emit(rd.reject(e), false)
	case *expr.Counter:
		rd.emit("counter", false)
	case *expr.Log:
		if len(e.Data) > 0 {
			rd.emit("log prefix "+strconv.Quote(string(e.Data)), false)
		} else {
			rd.emit("log", false)
		}
	case *expr.Limit:
		rd.emit(limitText(e), false)
	case *expr.Quota:
		over := ""
		if e.Over {
			over = "over "
		}
		rd.emit(fmt.Sprintf("quota %s%d bytes", over, e.Bytes), false)
	case *expr.Connlimit:
		over := ""
		if e.Flags&1 != 0 {
			over = "over "
		}
		rd.emit(fmt.Sprintf("ct count %s%d", over, e.Count), false)
	case *expr.Objref:
		kinds := map[int]string{1: "counter", 2: "quota", 3: "ct helper", 4: "limit"}
		k := kinds[e.Type]
		if k == "" {
			k = fmt.Sprintf("object type %d", e.Type)
		}
		rd.emit(k+" name "+strconv.Quote(e.Name), false)
	case *expr.Dynset:
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
		rd.emit(fmt.Sprintf("%s @%s { %s }", op, e.SetName, inner), false)
	case *expr.Match:
		if c, ok := e.Info.(*xt.Comment); ok {
			rd.emit("comment "+strconv.Quote(string(*c)), false)
			return
		}
		rd.emit("xt match "+strconv.Quote(e.Name), false)
	case *expr.Target:
		rd.emit("xt target "+strconv.Quote(e.Name), false)
	case *expr.Fib:
		var flags []string
		for _, x := range []struct {
			on   bool
			name string
		}{{e.FlagSADDR, "saddr"}, {e.FlagDADDR, "daddr"}, {e.FlagMARK, "mark"}, {e.FlagIIF, "iif"}, {e.FlagOIF, "oif"}} {
			if x.on {
				flags = append(flags, x.name)
			}
		}
		res := "oif"
		switch {
		case e.ResultOIFNAME:
			res = "oifname"
		case e.ResultADDRTYPE:
			res = "type"
		}
		rd.set(e.Register, field{name: "fib " + strings.Join(flags, " . ") + " " + res})
	case *expr.Socket:
		names := map[expr.SocketKey]string{expr.SocketKeyTransparent: "transparent", expr.SocketKeyMark: "mark", expr.SocketKeyWildcard: "wildcard", expr.SocketKeyCgroupv2: "cgroupv2"}
		rd.set(e.Register, field{name: "socket " + names[e.Key]})
	case *expr.Rt:
		rd.set(e.Register, field{name: "rt"})
	case *expr.Numgen:
		rd.set(e.Register, field{name: "numgen"})
	case *expr.Hash:
		rd.set(e.DestRegister, field{name: "hash"})
	case *expr.Exthdr:
		if e.SourceRegister != 0 {
			rd.emit("exthdr set", false)
			return
		}
		rd.set(e.DestRegister, field{name: fmt.Sprintf("exthdr type %d offset %d", e.Type, e.Offset)})
	case *expr.NAT:
		if e.Type == expr.NATTypeDestNAT {
			rd.emit("dnat", false)
		} else {
			rd.emit("snat", false)
		}
	case *expr.Notrack:
		rd.emit("notrack", false)
	default:
		rd.emit(n.name, false)
	}
}

func limitText(e *expr.Limit) string {
	over := ""
	if e.Over {
		over = "over "
	}
	units := map[expr.LimitTime]string{expr.LimitTimeSecond: "second", expr.LimitTimeMinute: "minute",
		expr.LimitTimeHour: "hour", expr.LimitTimeDay: "day", expr.LimitTimeWeek: "week"}
	u := units[e.Unit]
	if u == "" {
		u = fmt.Sprintf("%ds", e.Unit)
	}
	what := ""
	if e.Type == expr.LimitTypePktBytes {
		what = " bytes"
	}
	s := fmt.Sprintf("limit rate %s%d%s/%s", over, e.Rate, what, u)
	if e.Burst > 0 && e.Burst != 5 { // 5 is nft's default, which it does not print
		s += fmt.Sprintf(" burst %d packets", e.Burst)
	}
	return s
}

func (rd *renderer) reject(e *expr.Reject) string {
	switch e.Type {
	case unix.NFT_REJECT_TCP_RST:
		return "reject with tcp reset"
	case unix.NFT_REJECT_ICMPX_UNREACH:
		names := []string{"no-route", "port-unreachable", "host-unreachable", "admin-prohibited"}
		if e.Code == unix.NFT_REJECT_ICMPX_PORT_UNREACH {
			return "reject"
		}
		if int(e.Code) < len(names) {
			return "reject with icmpx " + names[e.Code]
		}
	case unix.NFT_REJECT_ICMP_UNREACH:
		if rd.r.chain.table.family == famIPv6 {
			names := map[uint8]string{0: "no-route", 1: "admin-prohibited", 3: "addr-unreachable", 4: "port-unreachable"}
			if e.Code == 4 {
				return "reject"
			}
			if n, ok := names[e.Code]; ok {
				return "reject with icmpv6 " + n
			}
		} else {
			names := map[uint8]string{0: "net-unreachable", 1: "host-unreachable", 2: "prot-unreachable", 3: "port-unreachable", 13: "admin-prohibited"}
			if e.Code == 3 {
				return "reject"
			}
			if n, ok := names[e.Code]; ok {
				return "reject with icmp " + n
			}
		}
	}
	return fmt.Sprintf("reject type %d code %d", e.Type, e.Code)
}

func metaLen(k expr.MetaKey) int {
	switch k {
	case expr.MetaKeyL4PROTO, expr.MetaKeyNFPROTO, expr.MetaKeyPKTTYPE:
		return 1
	case expr.MetaKeyPROTOCOL, expr.MetaKeyIIFTYPE, expr.MetaKeyOIFTYPE:
		return 2
	case expr.MetaKeyIIFNAME, expr.MetaKeyOIFNAME:
		return unix.IFNAMSIZ
	}
	return 4
}

func metaField(k expr.MetaKey) field {
	switch k {
	case expr.MetaKeyL4PROTO:
		return field{name: "meta l4proto", kind: fProto, dep: "l4"}
	case expr.MetaKeyNFPROTO:
		return field{name: "meta nfproto", kind: fNfproto, dep: "l3"}
	case expr.MetaKeyPROTOCOL:
		return field{name: "meta protocol", kind: fEther, dep: "l3"}
	case expr.MetaKeyIIFNAME:
		return field{name: "iifname", kind: fIfname}
	case expr.MetaKeyOIFNAME:
		return field{name: "oifname", kind: fIfname}
	case expr.MetaKeyIIF:
		return field{name: "iif", kind: fIfindex}
	case expr.MetaKeyOIF:
		return field{name: "oif", kind: fIfindex}
	case expr.MetaKeyMARK:
		return field{name: "meta mark", kind: fMark}
	case expr.MetaKeyPKTTYPE:
		return field{name: "meta pkttype", kind: fPkttype}
	case expr.MetaKeySKUID:
		return field{name: "meta skuid"}
	case expr.MetaKeyIIFTYPE:
		return field{name: "iiftype"}
	}
	return field{name: fmt.Sprintf("meta key %d", k)}
}

func ctField(k expr.CtKey) field {
	switch k {
	case expr.CtKeySTATE:
		return field{name: "ct state", kind: fCtState}
	case expr.CtKeySTATUS:
		return field{name: "ct status", kind: fCtStatus}
	case expr.CtKeyDIRECTION:
		return field{name: "ct direction", kind: fDir}
	case expr.CtKeyMARK:
		return field{name: "ct mark", kind: fMark}
	case expr.CtKeyPROTOCOL:
		return field{name: "ct protocol", kind: fProto}
	case expr.CtKeyHELPER:
		return field{name: "ct helper"}
	}
	return field{name: fmt.Sprintf("ct key %d", k)}
}

func (rd *renderer) payloadField(e *expr.Payload) field {
	off, n := int(e.Offset), int(e.Len)
	raw := func(base string) field {
		return field{name: fmt.Sprintf("@%s,%d,%d", base, off*8, n*8)}
	}
	switch e.Base {
	case expr.PayloadBaseNetworkHeader:
		l3 := rd.l3
		if l3 == "" {
			l3 = "ip"
			if n == 16 || off >= 24 || off == 6 {
				l3 = "ip6"
			}
		}
		if l3 == "ip" {
			switch {
			case off == 9 && n == 1:
				return field{name: "ip protocol", kind: fProto, dep: "l4"}
			case off == 12 && n <= 4:
				return field{name: "ip saddr", kind: fAddr, dep: "ip"}
			case off == 16 && n <= 4:
				return field{name: "ip daddr", kind: fAddr, dep: "ip"}
			}
			return raw("nh")
		}
		switch {
		case off == 6 && n == 1:
			return field{name: "ip6 nexthdr", kind: fProto, dep: "l4"}
		case off == 8 && n <= 16:
			return field{name: "ip6 saddr", kind: fAddr, dep: "ip6"}
		case off == 24 && n <= 16:
			return field{name: "ip6 daddr", kind: fAddr, dep: "ip6"}
		}
		return raw("nh")
	case expr.PayloadBaseTransportHeader:
		l4 := rd.l4
		if l4 == "" {
			l4 = "th"
		}
		switch {
		case off == 0 && n == 2:
			return field{name: l4 + " sport", kind: fPort, dep: l4}
		case off == 2 && n == 2:
			return field{name: l4 + " dport", kind: fPort, dep: l4}
		case l4 == "tcp" && off == 13 && n == 1:
			return field{name: "tcp flags", dep: l4}
		}
		return raw("th")
	}
	return raw("ll")
}

// fieldTok emits "field value", dropping the dependency the field implies.
func (rd *renderer) fieldTok(f field, rest string) {
	switch f.dep {
	case "ip", "ip6":
		rd.elide("l3")
	case "tcp", "udp", "th":
		rd.elide("l4")
	}
	rd.emit(f.name+" "+rest, false)
}

func (rd *renderer) cmp(f field, op expr.CmpOp, data []byte) {
	ops := map[expr.CmpOp]string{expr.CmpOpNeq: "!= ", expr.CmpOpLt: "< ", expr.CmpOpLte: "<= ", expr.CmpOpGt: "> ", expr.CmpOpGte: ">= "}
	o := ops[op]
	if (f.kind == fCtState || f.kind == fCtStatus) && f.mask != nil && allZero(data) {
		names := rd.format(f, f.mask)
		if op == expr.CmpOpNeq {
			rd.emit(f.name+" "+names, false)
		} else {
			rd.emit(f.name+" & ("+strings.ReplaceAll(names, ",", "|")+") == 0", false)
		}
		return
	}
	v := rd.format(f, data)
	switch f.dep {
	case "l4":
		if op == expr.CmpOpEq {
			if v == "tcp" || v == "udp" {
				rd.l4 = v
			}
			rd.emit(f.name+" "+v, true)
			rd.depKind = "l4"
			return
		}
	case "l3":
		if op == expr.CmpOpEq {
			switch v {
			case "ipv4", "ip":
				rd.l3 = "ip"
			case "ipv6", "ip6":
				rd.l3 = "ip6"
			}
			rd.emit(f.name+" "+v, true)
			rd.depKind = "l3"
			return
		}
	}
	// "tcp dport >= 8092 tcp dport <= 8093" is how nft writes a range: read it back as one
	if op == expr.CmpOpLte && len(rd.toks) > 0 && strings.HasPrefix(rd.toks[len(rd.toks)-1], f.name+" >= ") {
		last := rd.toks[len(rd.toks)-1]
		rd.toks[len(rd.toks)-1] = last[:len(f.name)+1] + strings.TrimPrefix(last, f.name+" >= ") + "-" + v
		return
	}
	rd.fieldTok(f, o+v)
}

// format writes a value of a field as nft does.
func (rd *renderer) format(f field, b []byte) string {
	switch f.kind {
	case fPort:
		if len(b) >= 2 {
			return strconv.Itoa(int(binary.BigEndian.Uint16(b)))
		}
	case fAddr:
		v6 := strings.HasPrefix(f.name, "ip6") || len(b) > 4
		alen := 4
		if v6 {
			alen = 16
		}
		full := make([]byte, alen)
		copy(full, b)
		a, _ := netip.AddrFromSlice(full)
		bitsCmp := len(b) * 8
		if f.mask != nil {
			bitsCmp = 0
			for _, m := range f.mask {
				for m&0x80 != 0 {
					bitsCmp++
					m <<= 1
				}
			}
		}
		if bitsCmp < alen*8 {
			return netip.PrefixFrom(a, bitsCmp).String()
		}
		return a.String()
	case fProto:
		if len(b) >= 1 {
			names := map[byte]string{1: "icmp", 2: "igmp", 6: "tcp", 17: "udp", 33: "dccp", 47: "gre", 50: "esp", 51: "ah", 58: "ipv6-icmp", 132: "sctp", 136: "udplite"}
			if n, ok := names[b[0]]; ok {
				return n
			}
			return strconv.Itoa(int(b[0]))
		}
	case fNfproto:
		if len(b) >= 1 {
			switch b[0] {
			case unix.NFPROTO_IPV4:
				return "ipv4"
			case unix.NFPROTO_IPV6:
				return "ipv6"
			}
		}
	case fEther:
		if len(b) >= 2 {
			switch binary.BigEndian.Uint16(b) {
			case 0x0800:
				return "ip"
			case 0x86dd:
				return "ip6"
			case 0x0806:
				return "arp"
			}
		}
	case fCtState, fCtStatus:
		if len(b) >= 4 {
			v := binary.NativeEndian.Uint32(b)
			var names []string
			table := []struct {
				bit  uint32
				name string
			}{{1, "invalid"}, {2, "established"}, {4, "related"}, {8, "new"}, {64, "untracked"}}
			if f.kind == fCtStatus {
				table = []struct {
					bit  uint32
					name string
				}{{1, "expected"}, {2, "seen-reply"}, {4, "assured"}, {8, "confirmed"}, {0x10, "snat"}, {0x20, "dnat"}, {0x200, "dying"}}
			}
			for _, t := range table {
				if v&t.bit != 0 {
					names = append(names, t.name)
					v &^= t.bit
				}
			}
			if v != 0 {
				names = append(names, fmt.Sprintf("0x%x", v))
			}
			return strings.Join(names, ",")
		}
	case fIfname:
		s := string(b)
		if i := strings.IndexByte(s, 0); i >= 0 {
			return strconv.Quote(s[:i])
		}
		return strconv.Quote(s + "*")
	case fIfindex:
		if len(b) == 4 {
			if i := binary.NativeEndian.Uint32(b); i == 1 {
				return `"lo"`
			} else {
				return strconv.Itoa(int(i))
			}
		}
	case fMark:
		if len(b) == 4 {
			return fmt.Sprintf("0x%08x", binary.NativeEndian.Uint32(b))
		}
	case fPkttype:
		if len(b) >= 1 {
			names := []string{"host", "broadcast", "multicast", "other"}
			if int(b[0]) < len(names) {
				return names[b[0]]
			}
		}
	case fDir:
		if len(b) >= 1 {
			if b[0] == 0 {
				return "original"
			}
			return "reply"
		}
	}
	return "0x" + hex.EncodeToString(b)
}

func (rd *renderer) value(f field) string {
	if f.kind == fConst {
		return f.name
	}
	return f.name
}

func (rd *renderer) lookup(e *expr.Lookup) {
	f := rd.get(e.SourceRegister)
	s := rd.rs.sets[setKey{rd.r.chain.table.family, rd.r.chain.table.name, e.SetName}]
	if s != nil && f.n > 0 && int(s.keyLen) > 4*words(f.n) {
		// a concatenation: the fields follow each other in the registers
		var names []string
		deps := ""
		slot, left := regSlot(e.SourceRegister), int(s.keyLen)
		for left > 0 && slot >= 0 && slot < 16 {
			g, ok := rd.regs[slot]
			if !ok || g.n == 0 {
				break
			}
			names = append(names, g.name)
			if g.dep != "" {
				deps += g.dep + " "
			}
			slot += words(g.n)
			left -= 4 * words(g.n)
		}
		f = field{name: strings.Join(names, " . "), prefix: -1}
		if strings.Contains(deps, "tcp") || strings.Contains(deps, "udp") || strings.Contains(deps, "th") {
			rd.elide("l4")
		}
		if strings.Contains(deps, "ip") {
			rd.elide("l3")
		}
	}
	ref := "@" + e.SetName
	if s != nil && s.anonymous() {
		ref = rd.setText(f, s, e.IsDestRegSet)
	}
	op := ""
	if e.Invert {
		op = "!= "
	}
	switch {
	case e.IsDestRegSet && e.DestRegister == unix.NFT_REG_VERDICT:
		rd.fieldTok(f, "vmap "+ref)
	case e.IsDestRegSet:
		rd.set(e.DestRegister, field{name: f.name + " map " + ref})
	default:
		rd.fieldTok(f, op+ref)
	}
}

func (rd *renderer) setText(f field, s *set, withData bool) string {
	var parts []string
	if entries, catchall := s.entriesList(); true {
		for _, en := range entries {
			k := rd.format(f, en.lo)
			if f.kind == fAddr && !en.perField && string(en.lo) != string(en.hi) {
				rs := rangeSet(len(en.lo) == 16, u128From(en.lo), u128From(en.hi))
				if ps := rs.prefixes(); len(ps) == 1 {
					k = ps[0].String()
				} else {
					k += "-" + rd.format(f, en.hi)
				}
			} else if string(en.lo) != string(en.hi) {
				k += "-" + rd.format(f, en.hi)
			}
			if withData {
				k += " : " + elemData(en.elem)
			}
			parts = append(parts, k)
		}
		if catchall != nil {
			k := "*"
			if withData {
				k += " : " + elemData(catchall)
			}
			parts = append(parts, k)
		}
	}
	return "{ " + strings.Join(parts, ", ") + " }"
}

func elemData(e *setElem) string {
	if e.verdict != nil {
		w := verdictWord(e.verdict.Kind)
		if e.verdict.Chain != "" {
			w += " " + e.verdict.Chain
		}
		return w
	}
	return "0x" + hex.EncodeToString(e.data)
}
