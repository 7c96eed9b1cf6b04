//go:build linux

package firewall

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// A small renderer of rules in nft syntax, for the expressions the evaluator knows (and a readable
// approximation of the others): "ip saddr 10.0.0.0/8 tcp dport 5432 accept",
// "tcp dport @allowed accept", "tcp dport vmap { 22 : accept, 23 : drop }".
//
// It walks a rule's expressions as the kernel does: a load only names what a register holds (the
// field, render_fields.go); a match writes "field value" (the value as nft writes it); a statement
// writes its own text (render_statements.go). A protocol match that the next field implies
// ("meta l4proto tcp" before "tcp dport") is dropped, as nft does.

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

// node renders one expression: one small method per kind.
func (rd *renderer) node(n node) {
	if reg, f, ok := opaqueField(n.e); ok {
		rd.set(reg, f)
		return
	}
	switch e := n.e.(type) {
	case *expr.Meta:
		rd.meta(e)
	case *expr.Ct:
		rd.ct(e)
	case *expr.Payload:
		rd.payload(e)
	case *expr.Exthdr:
		rd.exthdr(e)
	case *expr.Immediate:
		rd.set(e.Register, field{name: "0x" + hex.EncodeToString(e.Data), kind: fConst, value: e.Data})
	case *expr.Bitwise:
		rd.bitwise(e)
	case *expr.Byteorder:
		rd.put(e.DestRegister, rd.get(e.SourceRegister))
	case *expr.Cmp:
		rd.cmp(rd.get(e.Register), e.Op, e.Data)
	case *expr.Range:
		rd.rangeMatch(e)
	case *expr.Lookup:
		rd.lookup(e)
	default:
		rd.emit(rd.statement(n), false)
	}
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

// set records what a load puts in a register.
func (rd *renderer) set(reg uint32, f field) {
	f.prefix = -1
	rd.put(reg, f)
}

// put records a field in a register as it is (an operation on what the register held).
func (rd *renderer) put(reg uint32, f field) {
	if s := regSlot(reg); s >= 0 {
		rd.regs[s] = f
	}
}

func (rd *renderer) get(reg uint32) field {
	if f, ok := rd.regs[regSlot(reg)]; ok {
		return f
	}
	return field{name: fmt.Sprintf("reg %d", reg), prefix: -1}
}

// ---- loads and stores: what a register holds, or a statement that writes it to the packet ----

func (rd *renderer) meta(e *expr.Meta) {
	f := metaField(e.Key)
	f.n = metaLen(e.Key)
	if e.SourceRegister {
		rd.store(f, e.Register)
		return
	}
	rd.set(e.Register, f)
}

func (rd *renderer) ct(e *expr.Ct) {
	f := ctField(e.Key)
	f.n = ctLen(e.Key)
	if e.SourceRegister {
		rd.store(f, e.Register)
		return
	}
	rd.set(e.Register, f)
}

func (rd *renderer) payload(e *expr.Payload) {
	f := rd.payloadField(e)
	f.n = int(e.Len)
	if e.OperationType != expr.PayloadLoad {
		rd.store(f, e.SourceRegister)
		return
	}
	rd.set(e.DestRegister, f)
}

func (rd *renderer) exthdr(e *expr.Exthdr) {
	if e.SourceRegister != 0 {
		rd.emit("exthdr set", false)
		return
	}
	rd.set(e.DestRegister, field{name: fmt.Sprintf("exthdr type %d offset %d", e.Type, e.Offset)})
}

// store is a statement that writes a register into the packet or its metadata: "meta mark set 0x1".
func (rd *renderer) store(f field, reg uint32) {
	rd.emit(f.name+" set "+rd.get(reg).name, false)
}

// bitwise masks a field: an address prefix or ct flags keep their names (the match says what the
// mask means); anything else is written as the operation.
func (rd *renderer) bitwise(e *expr.Bitwise) {
	f := rd.get(e.SourceRegister)
	if f.kind == fMark && len(e.Mask) == 4 && len(e.Xor) == 4 {
		rd.put(e.DestRegister, markOp(f, e))
		return
	}
	if (f.kind == fAddr || isCtBits(f)) && allZero(e.Xor) {
		f.mask = e.Mask
	} else {
		f = field{name: f.name + " & 0x" + hex.EncodeToString(e.Mask) + " ^ 0x" + hex.EncodeToString(e.Xor), prefix: -1}
	}
	rd.put(e.DestRegister, f)
}

// markOp writes an operation on a mark as nft does, in host order as a mark is: "meta mark |
// 0x00004000" (mask and xor split the bits), "& m" (no xor), "^ x" (the whole mask), else both.
func markOp(f field, e *expr.Bitwise) field {
	m, x := binary.NativeEndian.Uint32(e.Mask), binary.NativeEndian.Uint32(e.Xor)
	var op string
	switch {
	case x == 0:
		op = fmt.Sprintf("& 0x%08x", m)
	case m == 0xffffffff:
		op = fmt.Sprintf("^ 0x%08x", x)
	case m|x == 0xffffffff && m&x == 0:
		op = fmt.Sprintf("| 0x%08x", x)
	default:
		op = fmt.Sprintf("& 0x%08x ^ 0x%08x", m, x)
	}
	return field{name: f.name + " " + op, kind: fMark, prefix: -1, n: f.n, binop: true}
}

// ---- matches: "field value" ----

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

var cmpOps = map[expr.CmpOp]string{expr.CmpOpNeq: "!= ", expr.CmpOpLt: "< ", expr.CmpOpLte: "<= ", expr.CmpOpGt: "> ", expr.CmpOpGte: ">= "}

func (rd *renderer) cmp(f field, op expr.CmpOp, data []byte) {
	if isCtBits(f) && f.mask != nil && allZero(data) {
		rd.ctBitsTest(f, op)
		return
	}
	v := rd.format(f, data)
	if op == expr.CmpOpEq && (f.dep == "l4" || f.dep == "l3") {
		rd.dependency(f, v)
		return
	}
	if op == expr.CmpOpLte && rd.mergeRange(f, v) {
		return
	}
	if op == expr.CmpOpEq && f.binop {
		v = "== " + v // nft says it after an operation: "meta mark & 0x00004000 == 0x00000000"
	}
	rd.fieldTok(f, cmpOps[op]+v)
}

// ctBitsTest is a test of ct state or status flags against zero: "ct state established,related"
// (some set), "ct status & (snat|dnat) == 0" (none set).
func (rd *renderer) ctBitsTest(f field, op expr.CmpOp) {
	names := rd.format(f, f.mask)
	if op == expr.CmpOpNeq {
		rd.emit(f.name+" "+names, false)
		return
	}
	rd.emit(f.name+" & ("+strings.ReplaceAll(names, ",", "|")+") == 0", false)
}

// l3Of is the network protocol a "meta nfproto" or "meta protocol" value fixes.
var l3Of = map[string]string{"ipv4": "ip", "ip": "ip", "ipv6": "ip6", "ip6": "ip6"}

// dependency is a protocol match ("meta l4proto tcp"): it fixes what the fields after it are, and
// is dropped when the next field implies it.
func (rd *renderer) dependency(f field, v string) {
	if f.dep == "l4" {
		if v == "tcp" || v == "udp" {
			rd.l4 = v
		}
	} else if l3, ok := l3Of[v]; ok {
		rd.l3 = l3
	}
	rd.emit(f.name+" "+v, true)
	rd.depKind = f.dep
}

// mergeRange reads "tcp dport >= 8092 tcp dport <= 8093", how nft writes a range, back as one:
// "tcp dport 8092-8093".
func (rd *renderer) mergeRange(f field, v string) bool {
	if len(rd.toks) == 0 {
		return false
	}
	last := rd.toks[len(rd.toks)-1]
	if !strings.HasPrefix(last, f.name+" >= ") {
		return false
	}
	rd.toks[len(rd.toks)-1] = last[:len(f.name)+1] + strings.TrimPrefix(last, f.name+" >= ") + "-" + v
	return true
}

func (rd *renderer) rangeMatch(e *expr.Range) {
	f := rd.get(e.Register)
	op := ""
	if e.Op == expr.CmpOpNeq {
		op = "!= "
	}
	rd.fieldTok(f, op+rd.format(f, e.FromData)+"-"+rd.format(f, e.ToData))
}

// lookup is a set match ("tcp dport @allowed"), a map ("meta mark set ip saddr map @m": its
// value goes to a register) or a verdict map ("tcp dport vmap { 22 : accept }").
func (rd *renderer) lookup(e *expr.Lookup) {
	f := rd.get(e.SourceRegister)
	s := rd.rs.sets[setKey{rd.r.chain.table.family, rd.r.chain.table.name, e.SetName}]
	if s != nil && f.n > 0 && int(s.keyLen) > 4*words(f.n) {
		f = rd.concatField(e.SourceRegister, s)
	}
	ref := "@" + e.SetName
	if s != nil && s.anonymous() {
		ref = rd.setText(f, s, e.IsDestRegSet)
	}
	switch {
	case e.IsDestRegSet && e.DestRegister == unix.NFT_REG_VERDICT:
		rd.fieldTok(f, "vmap "+ref)
	case e.IsDestRegSet:
		rd.set(e.DestRegister, field{name: f.name + " map " + ref})
	case e.Invert:
		rd.fieldTok(f, "!= "+ref)
	default:
		rd.fieldTok(f, ref)
	}
}

// concatField names a concatenation, "ip saddr . tcp dport": its fields follow each other in the
// registers from reg on, as long as the set's key.
func (rd *renderer) concatField(reg uint32, s *set) field {
	var names []string
	deps := ""
	slot, left := regSlot(reg), int(s.keyLen)
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
	rd.elideFor(deps)
	return field{name: strings.Join(names, " . "), prefix: -1}
}

// elideFor drops the protocol matches the fields of a concatenation imply.
func (rd *renderer) elideFor(deps string) {
	if strings.Contains(deps, "tcp") || strings.Contains(deps, "udp") || strings.Contains(deps, "th") {
		rd.elide("l4")
	}
	if strings.Contains(deps, "ip") {
		rd.elide("l3")
	}
}

// setText writes an anonymous set's elements: "{ 22, 80 }", "{ 22 : accept, * : drop }".
func (rd *renderer) setText(f field, s *set, withData bool) string {
	var parts []string
	entries, catchall := s.entriesList()
	for _, en := range entries {
		k := rd.entryText(f, en)
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
	return "{ " + strings.Join(parts, ", ") + " }"
}

// entryText writes an element's key: a value, a range, or an address range that is a prefix.
func (rd *renderer) entryText(f field, en setEntry) string {
	k := rd.format(f, en.lo)
	if string(en.lo) == string(en.hi) {
		return k
	}
	if f.kind == fAddr && !en.perField {
		rs := rangeSet(len(en.lo) == 16, u128From(en.lo), u128From(en.hi))
		if ps := rs.prefixes(); len(ps) == 1 {
			return ps[0].String()
		}
	}
	return k + "-" + rd.format(f, en.hi)
}

// elemData writes a map element's value: a verdict, or the data.
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
