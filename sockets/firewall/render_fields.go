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
	"golang.org/x/sys/unix"
)

// The renderer's fields: what a load puts in a register, named as nft names it ("ip saddr",
// "tcp dport", "ct state"), and a value of each kind of field written as nft writes it.

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
	fInt // a host-order integer (numgen's)
)

type field struct {
	name   string
	kind   fkind
	prefix int // address: bits compared, -1 for all
	mask   []byte
	value  []byte // fConst: an immediate
	dep    string
	n      int  // bytes it takes in the registers
	binop  bool // the field is an operation's result ("meta mark & 0x1"): an equality says "=="
}

func isCtBits(f field) bool { return f.kind == fCtState || f.kind == fCtStatus }

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

var metaFields = map[expr.MetaKey]field{
	expr.MetaKeyL4PROTO:  {name: "meta l4proto", kind: fProto, dep: "l4"},
	expr.MetaKeyNFPROTO:  {name: "meta nfproto", kind: fNfproto, dep: "l3"},
	expr.MetaKeyPROTOCOL: {name: "meta protocol", kind: fEther, dep: "l3"},
	expr.MetaKeyIIFNAME:  {name: "iifname", kind: fIfname},
	expr.MetaKeyOIFNAME:  {name: "oifname", kind: fIfname},
	expr.MetaKeyIIF:      {name: "iif", kind: fIfindex},
	expr.MetaKeyOIF:      {name: "oif", kind: fIfindex},
	expr.MetaKeyMARK:     {name: "meta mark", kind: fMark},
	expr.MetaKeyPKTTYPE:  {name: "meta pkttype", kind: fPkttype},
	expr.MetaKeySKUID:    {name: "meta skuid"},
	expr.MetaKeyIIFTYPE:  {name: "iiftype"},
}

func metaField(k expr.MetaKey) field {
	if f, ok := metaFields[k]; ok {
		return f
	}
	return field{name: fmt.Sprintf("meta key %d", k)}
}

func ctLen(k expr.CtKey) int {
	if k == expr.CtKeyDIRECTION || k == expr.CtKeyPROTOCOL {
		return 1
	}
	return 4
}

var ctFields = map[expr.CtKey]field{
	expr.CtKeySTATE:     {name: "ct state", kind: fCtState},
	expr.CtKeySTATUS:    {name: "ct status", kind: fCtStatus},
	expr.CtKeyDIRECTION: {name: "ct direction", kind: fDir},
	expr.CtKeyMARK:      {name: "ct mark", kind: fMark},
	expr.CtKeyPROTOCOL:  {name: "ct protocol", kind: fProto},
	expr.CtKeyHELPER:    {name: "ct helper"},
}

func ctField(k expr.CtKey) field {
	if f, ok := ctFields[k]; ok {
		return f
	}
	return field{name: fmt.Sprintf("ct key %d", k)}
}

// headerField is a header field the renderer names: its offset, and its length (exact, or at most
// that for an address, which nft loads in part for a prefix).
type headerField struct {
	off, n int
	upTo   bool
	f      field
}

var (
	ipFields = []headerField{
		{9, 1, false, field{name: "ip protocol", kind: fProto, dep: "l4"}},
		{12, 4, true, field{name: "ip saddr", kind: fAddr, dep: "ip"}},
		{16, 4, true, field{name: "ip daddr", kind: fAddr, dep: "ip"}},
	}
	ip6Fields = []headerField{
		{6, 1, false, field{name: "ip6 nexthdr", kind: fProto, dep: "l4"}},
		{8, 16, true, field{name: "ip6 saddr", kind: fAddr, dep: "ip6"}},
		{24, 16, true, field{name: "ip6 daddr", kind: fAddr, dep: "ip6"}},
	}
)

func (rd *renderer) payloadField(e *expr.Payload) field {
	off, n := int(e.Offset), int(e.Len)
	switch e.Base {
	case expr.PayloadBaseNetworkHeader:
		if f, ok := networkField(rd.networkFamily(off, n), off, n); ok {
			return f
		}
		return rawField("nh", off, n)
	case expr.PayloadBaseTransportHeader:
		l4 := rd.l4
		if l4 == "" {
			l4 = "th"
		}
		if f, ok := transportField(l4, off, n); ok {
			return f
		}
		return rawField("th", off, n)
	}
	return rawField("ll", off, n)
}

// networkFamily is "ip" or "ip6": what the table or an earlier match fixed, or else a guess from
// the load (an IPv6 address is 16 bytes long or lies past IPv4's header; ip6 nexthdr is at 6).
func (rd *renderer) networkFamily(off, n int) string {
	switch {
	case rd.l3 != "":
		return rd.l3
	case n == 16 || off >= 24 || off == 6:
		return "ip6"
	}
	return "ip"
}

func networkField(l3 string, off, n int) (field, bool) {
	fields := ip6Fields
	if l3 == "ip" {
		fields = ipFields
	}
	for _, h := range fields {
		if h.off == off && (n == h.n || h.upTo && n <= h.n) {
			return h.f, true
		}
	}
	return field{}, false
}

func transportField(l4 string, off, n int) (field, bool) {
	switch {
	case off == 0 && n == 2:
		return field{name: l4 + " sport", kind: fPort, dep: l4}, true
	case off == 2 && n == 2:
		return field{name: l4 + " dport", kind: fPort, dep: l4}, true
	case l4 == "tcp" && off == 13 && n == 1:
		return field{name: "tcp flags", dep: l4}, true
	}
	return field{}, false
}

// rawField is a payload load nft has no name for: "@th,16,16" (base, offset and length in bits).
func rawField(base string, off, n int) field {
	return field{name: fmt.Sprintf("@%s,%d,%d", base, off*8, n*8)}
}

var socketKeys = map[expr.SocketKey]string{expr.SocketKeyTransparent: "transparent", expr.SocketKeyMark: "mark",
	expr.SocketKeyWildcard: "wildcard", expr.SocketKeyCgroupv2: "cgroupv2"}

// opaqueField names a load the evaluator does not follow (fib, socket, rt, numgen, hash), and its
// destination register.
func opaqueField(e any) (uint32, field, bool) {
	switch e := e.(type) {
	case *expr.Fib:
		return e.Register, fibField(e), true
	case *expr.Socket:
		return e.Register, field{name: "socket " + socketKeys[e.Key]}, true
	case *expr.Rt:
		return e.Register, field{name: "rt"}, true
	case *expr.Numgen:
		return e.Register, numgenField(e), true
	case *expr.Hash:
		return e.DestRegister, field{name: "hash"}, true
	}
	return 0, field{}, false
}

// numgenField is "numgen random mod 2" (and "offset 5"), as nft writes it; its values are host-order
// integers.
func numgenField(e *expr.Numgen) field {
	kind := "inc"
	if e.Type == 1 { // NFT_NG_RANDOM
		kind = "random"
	}
	name := fmt.Sprintf("numgen %s mod %d", kind, e.Modulus)
	if e.Offset != 0 {
		name += fmt.Sprintf(" offset %d", e.Offset)
	}
	return field{name: name, kind: fInt}
}

// fibField is "fib saddr . iif oif": what the lookup uses, and what it gives.
func fibField(e *expr.Fib) field {
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
	return field{name: "fib " + strings.Join(flags, " . ") + " " + res}
}

// ---- values ----

// formats write a value of each kind of field as nft does; ok is false when the bytes do not fit
// the kind (then the value is written in hex).
var formats = map[fkind]func(f field, b []byte) (string, bool){
	fPort:     formatPort,
	fAddr:     formatAddr,
	fProto:    formatProto,
	fNfproto:  formatNfproto,
	fEther:    formatEther,
	fCtState:  formatCtBits,
	fCtStatus: formatCtBits,
	fIfname:   formatIfname,
	fIfindex:  formatIfindex,
	fMark:     formatMark,
	fPkttype:  formatPkttype,
	fDir:      formatDir,
	fInt:      formatInt,
}

func formatInt(_ field, b []byte) (string, bool) {
	if len(b) != 4 {
		return "", false
	}
	return strconv.FormatUint(uint64(binary.NativeEndian.Uint32(b)), 10), true
}

// format writes a value of a field as nft does.
func (rd *renderer) format(f field, b []byte) string {
	if fm := formats[f.kind]; fm != nil {
		if s, ok := fm(f, b); ok {
			return s
		}
	}
	return "0x" + hex.EncodeToString(b)
}

func formatPort(_ field, b []byte) (string, bool) {
	if len(b) < 2 {
		return "", false
	}
	return strconv.Itoa(int(binary.BigEndian.Uint16(b))), true
}

// formatAddr writes an address, or a prefix when fewer bits are compared (a shorter load or a mask).
func formatAddr(f field, b []byte) (string, bool) {
	alen := 4
	if strings.HasPrefix(f.name, "ip6") || len(b) > 4 {
		alen = 16
	}
	full := make([]byte, alen)
	copy(full, b)
	a, _ := netip.AddrFromSlice(full)
	bitsCmp := len(b) * 8
	if f.mask != nil {
		bitsCmp = leadingOnes(f.mask)
	}
	if bitsCmp < alen*8 {
		return netip.PrefixFrom(a, bitsCmp).String(), true
	}
	return a.String(), true
}

// leadingOnes counts the leading one bits of each byte of a mask.
func leadingOnes(mask []byte) int {
	n := 0
	for _, m := range mask {
		for m&0x80 != 0 {
			n++
			m <<= 1
		}
	}
	return n
}

var protoNames = map[byte]string{1: "icmp", 2: "igmp", 6: "tcp", 17: "udp", 33: "dccp", 47: "gre", 50: "esp",
	51: "ah", 58: "ipv6-icmp", 132: "sctp", 136: "udplite"}

func formatProto(_ field, b []byte) (string, bool) {
	if len(b) < 1 {
		return "", false
	}
	if n, ok := protoNames[b[0]]; ok {
		return n, true
	}
	return strconv.Itoa(int(b[0])), true
}

func formatNfproto(_ field, b []byte) (string, bool) {
	if len(b) < 1 {
		return "", false
	}
	switch b[0] {
	case unix.NFPROTO_IPV4:
		return "ipv4", true
	case unix.NFPROTO_IPV6:
		return "ipv6", true
	}
	return "", false
}

var etherNames = map[uint16]string{0x0800: "ip", 0x86dd: "ip6", 0x0806: "arp"}

func formatEther(_ field, b []byte) (string, bool) {
	if len(b) < 2 {
		return "", false
	}
	n, ok := etherNames[binary.BigEndian.Uint16(b)]
	return n, ok
}

type flagName struct {
	bit  uint32
	name string
}

var (
	ctStateFlags  = []flagName{{1, "invalid"}, {2, "established"}, {4, "related"}, {8, "new"}, {64, "untracked"}}
	ctStatusFlags = []flagName{{1, "expected"}, {2, "seen-reply"}, {4, "assured"}, {8, "confirmed"}, {0x10, "snat"}, {0x20, "dnat"}, {0x200, "dying"}}
)

// formatCtBits writes ct state or status flags, "established,related"; bits without a name in hex.
func formatCtBits(f field, b []byte) (string, bool) {
	if len(b) < 4 {
		return "", false
	}
	v := binary.NativeEndian.Uint32(b)
	table := ctStateFlags
	if f.kind == fCtStatus {
		table = ctStatusFlags
	}
	var names []string
	for _, t := range table {
		if v&t.bit != 0 {
			names = append(names, t.name)
			v &^= t.bit
		}
	}
	if v != 0 {
		names = append(names, fmt.Sprintf("0x%x", v))
	}
	return strings.Join(names, ","), true
}

// formatIfname writes an interface name; one without its terminating zero is a prefix ("eth*").
func formatIfname(_ field, b []byte) (string, bool) {
	s := string(b)
	if i := strings.IndexByte(s, 0); i >= 0 {
		return strconv.Quote(s[:i]), true
	}
	return strconv.Quote(s + "*"), true
}

func formatIfindex(_ field, b []byte) (string, bool) {
	if len(b) != 4 {
		return "", false
	}
	if i := binary.NativeEndian.Uint32(b); i != 1 {
		return strconv.Itoa(int(i)), true
	}
	return `"lo"`, true // ifindex 1 is lo in every namespace
}

func formatMark(_ field, b []byte) (string, bool) {
	if len(b) != 4 {
		return "", false
	}
	return fmt.Sprintf("0x%08x", binary.NativeEndian.Uint32(b)), true
}

var pkttypeNames = []string{"host", "broadcast", "multicast", "other"}

func formatPkttype(_ field, b []byte) (string, bool) {
	if len(b) < 1 || int(b[0]) >= len(pkttypeNames) {
		return "", false
	}
	return pkttypeNames[b[0]], true
}

func formatDir(_ field, b []byte) (string, bool) {
	if len(b) < 1 {
		return "", false
	}
	if b[0] == 0 {
		return "original", true
	}
	return "reply", true
}
