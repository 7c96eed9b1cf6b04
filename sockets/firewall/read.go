//go:build linux

package firewall

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"runtime"
	"sort"
	"sync"
	"syscall"

	"github.com/google/nftables/expr"
	"github.com/mdlayher/netlink"
	"github.com/portwatch/portwatch/sockets/reach"
	"golang.org/x/sys/unix"
)

// Netfilter protocol families, as in a table's family byte.
const (
	famINET   = unix.NFPROTO_INET
	famIPv4   = unix.NFPROTO_IPV4
	famARP    = unix.NFPROTO_ARP
	famNetdev = unix.NFPROTO_NETDEV
	famBridge = unix.NFPROTO_BRIDGE
	famIPv6   = unix.NFPROTO_IPV6
)

// Hooks of the ip, ip6 and inet families (netdev ingress is 0, bridge prerouting 0 and input 1).
const (
	hookPrerouting = unix.NF_INET_PRE_ROUTING
	hookInput      = unix.NF_INET_LOCAL_IN
	hookIngress    = 5 // NF_INET_INGRESS
)

const (
	nftTableDormant = 0x1
	// a few attributes golang.org/x/sys does not name
	nftaBitwiseOp       = 6
	nftaSetElemKeyEnd   = 10
	nftSetElemCatchall  = 0x2
	nftaHookDevs        = 4
	nftaSetElemListElem = unix.NFTA_LIST_ELEM
)

type table struct {
	family uint8
	name   string
	flags  uint32
}

type chain struct {
	table  *table
	name   string
	base   bool
	hook   uint32
	prio   int32
	devs   []string
	policy uint32 // NF_ACCEPT or NF_DROP, base chains only
	kind   string // filter, nat or route, base chains only
	rules  []*rule
}

func (c *chain) addDev(d string) {
	for _, x := range c.devs {
		if x == d {
			return
		}
	}
	c.devs = append(c.devs, d)
}

func (c *chain) where() string {
	return "chain " + familyName(c.table.family) + " " + c.table.name + " " + c.name
}

// node is one expression of a rule: decoded by google/nftables when e is not nil, otherwise an
// expression this package does not decode (only its name is known).
type node struct {
	name string
	e    any
	raw  []byte
}

type rule struct {
	chain   *chain
	handle  uint64
	nodes   []node
	comment string

	once sync.Once
	text string
	rs   *Ruleset
}

// String is the rule in nft syntax with where it lives: "chain inet filter input: tcp dport 22 accept # handle 4".
func (r *rule) String() string {
	r.once.Do(func() {
		r.text = fmt.Sprintf("%s: %s # handle %d", r.chain.where(), renderRule(r.rs, r), r.handle)
	})
	return r.text
}

type setElem struct {
	key, keyEnd []byte
	data        []byte
	verdict     *expr.Verdict
	end         bool // interval end
	catchall    bool
}

type set struct {
	table    *table
	name     string
	flags    uint32
	keyType  uint32
	keyLen   uint32
	dataType uint32
	dataLen  uint32
	fields   []int // byte lengths of a concatenation's fields (NFTA_SET_DESC_CONCAT)
	elems    []setElem

	entriesOnce sync.Once
	entries     []setEntry
	catchall    *setElem
}

func (s *set) anonymous() bool { return s.flags&unix.NFT_SET_ANONYMOUS != 0 }
func (s *set) interval() bool  { return s.flags&unix.NFT_SET_INTERVAL != 0 }
func (s *set) volatile() bool  { return s.flags&(unix.NFT_SET_TIMEOUT|unix.NFT_SET_EVAL) != 0 }

type setKey struct {
	family uint8
	table  string
	name   string
}

// Ruleset is a network namespace's nftables ruleset, read once, with what Evaluate needs to know
// about legacy iptables. It is immutable and safe for concurrent use.
type Ruleset struct {
	gen        uint32
	unreadable string // the reason, when the ruleset could not be read
	tables     []*table
	chains     map[setKey]*chain // by family, table, chain name
	base       []*chain
	sets       map[setKey]*set
	legacy4    bool // legacy iptables rules that may touch incoming IPv4 packets
	legacy6    bool
	volatile   bool // a set whose contents change without a generation change
	nRules     int

	mu     sync.Mutex
	memo   map[evalKey]Verdict
	local  []netip.Addr       // the namespace's addresses (SetLocal), for wildcard listeners
	routes []Route            // the namespace's routes (SetRoutes), for the forward path and input interfaces
	pub    *[]reach.Published // Published's answer, until the addresses or routes change

	// firewalld's zones and services (LoadFirewalld, once per ruleset), for its commands
	fwd        *firewalldConfig
	fwdRead    bool
	forwarding Forwarding // the namespace's forwarding (SetForwarding), for published ports
}

// Generation is the nftables generation id the ruleset was read at.
func (r *Ruleset) Generation() uint32 { return r.gen }

func familyName(f uint8) string {
	switch f {
	case famINET:
		return "inet"
	case famIPv4:
		return "ip"
	case famIPv6:
		return "ip6"
	case famARP:
		return "arp"
	case famBridge:
		return "bridge"
	case famNetdev:
		return "netdev"
	}
	return fmt.Sprintf("family%d", f)
}

// Read reads the ruleset of the network namespace of /proc/PID/ns/net (the current one for pid 0)
// through netlink, as google/nftables does, with no nft binary at run time. The netlink socket is
// opened inside that namespace (a locked OS thread enters it and comes back).
//
// A ruleset the caller may not read (EPERM: not root, no CAP_NET_ADMIN) is not an error: Read
// returns a Ruleset whose every verdict is Unknown with ReasonNotRoot. Errors are for the rest: the
// process is gone, a netlink failure.
func Read(pid int) (*Ruleset, error) {
	h, err := openNS(pid)
	if err != nil {
		if isPerm(err) {
			return unreadable(), nil
		}
		return nil, err
	}
	defer h.close()
	return readNS(h)
}

// netns is a network namespace as reading its ruleset needs it: a netlink socket opened inside it,
// and what its legacy iptables tables do. *nsHandle is the kernel's; the tests read recorded
// conversations through another, so the evaluator is tested without root.
type netns interface {
	dial() (*netlink.Conn, error)
	legacy() (v4, v6 bool, err error)
	inode() uint64
	close()
}

// readNS reads a namespace's ruleset over a socket of its own.
func readNS(ns netns) (*Ruleset, error) {
	conn, err := ns.dial()
	if err != nil {
		if isPerm(err) {
			return unreadable(), nil
		}
		return nil, err
	}
	defer conn.Close()
	gen, err := getGen(conn)
	if err != nil {
		if isPerm(err) {
			return unreadable(), nil
		}
		return nil, err
	}
	return readWith(conn, gen, ns, Limits{})
}

func unreadable() *Ruleset { return &Ruleset{unreadable: ReasonNotRoot} }

func isPerm(err error) bool {
	return errors.Is(err, os.ErrPermission) || errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES)
}

// nsHandle is a network namespace: nil file for the caller's own.
type nsHandle struct {
	pid int
	f   *os.File
	ino uint64
}

func openNS(pid int) (*nsHandle, error) {
	self, err := os.Stat("/proc/self/ns/net")
	if err != nil {
		return nil, err
	}
	selfIno := self.Sys().(*syscall.Stat_t).Ino
	if pid == 0 {
		return &nsHandle{ino: selfIno}, nil
	}
	f, err := os.Open(fmt.Sprintf("/proc/%d/ns/net", pid))
	if err != nil {
		return nil, err
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		f.Close()
		return nil, err
	}
	if st.Ino == selfIno {
		f.Close()
		return &nsHandle{pid: pid, ino: st.Ino}, nil
	}
	return &nsHandle{pid: pid, f: f, ino: st.Ino}, nil
}

func (h *nsHandle) inode() uint64 { return h.ino }

func (h *nsHandle) close() {
	if h.f != nil {
		h.f.Close()
	}
}

// procNet is the /proc/PID/net directory, which shows the namespace of that process.
func (h *nsHandle) procNet() string {
	if h.pid == 0 {
		return "/proc/self/net"
	}
	return fmt.Sprintf("/proc/%d/net", h.pid)
}

// inNS runs fn on a locked OS thread inside the namespace, and brings the thread back.
func (h *nsHandle) inNS(fn func() error) error {
	if h.f == nil {
		return fn()
	}
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			runtime.UnlockOSThread()
			errc <- err
			return
		}
		defer orig.Close()
		if err := unix.Setns(int(h.f.Fd()), unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			errc <- os.NewSyscallError("setns", err)
			return
		}
		ferr := fn()
		if err := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); err != nil {
			// The thread stays locked: the goroutine ends and the runtime discards the thread.
			errc <- os.NewSyscallError("setns back", err)
			return
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}

func (h *nsHandle) dial() (*netlink.Conn, error) {
	var conn *netlink.Conn
	err := h.inNS(func() error {
		c, err := netlink.Dial(unix.NETLINK_NETFILTER, nil)
		conn = c
		return err
	})
	if err != nil && conn != nil {
		conn.Close()
		conn = nil
	}
	return conn, err
}

func nftMsgType(t int) netlink.HeaderType {
	return netlink.HeaderType(unix.NFNL_SUBSYS_NFTABLES<<8 | t)
}

func nfgen(family uint8) []byte { return []byte{family, unix.NFNETLINK_V0, 0, 0} }

// getGen asks for the generation id: one small request.
func getGen(conn *netlink.Conn) (uint32, error) {
	msgs, err := conn.Execute(netlink.Message{
		Header: netlink.Header{Type: nftMsgType(unix.NFT_MSG_GETGEN), Flags: netlink.Request},
		Data:   nfgen(unix.AF_UNSPEC),
	})
	if err != nil {
		return 0, err
	}
	for _, m := range msgs {
		if m.Header.Type != nftMsgType(unix.NFT_MSG_NEWGEN) || len(m.Data) < 4 {
			continue
		}
		ad, err := netlink.NewAttributeDecoder(m.Data[4:])
		if err != nil {
			return 0, err
		}
		ad.ByteOrder = binary.BigEndian
		for ad.Next() {
			if ad.Type() == unix.NFTA_GEN_ID {
				return ad.Uint32(), ad.Err()
			}
		}
	}
	return 0, errors.New("firewall: no generation id in the answer")
}

func dump(conn *netlink.Conn, t int, family uint8, attrs []netlink.Attribute) ([]netlink.Message, error) {
	data := nfgen(family)
	if len(attrs) > 0 {
		b, err := netlink.MarshalAttributes(attrs)
		if err != nil {
			return nil, err
		}
		data = append(data, b...)
	}
	msgs, err := conn.Execute(netlink.Message{
		Header: netlink.Header{Type: nftMsgType(t), Flags: netlink.Request | netlink.Dump},
		Data:   data,
	})
	if err != nil {
		return nil, err
	}
	out := msgs[:0]
	for _, m := range msgs {
		if len(m.Data) >= 4 && m.Header.Type != netlink.Done && m.Header.Type != netlink.Error {
			out = append(out, m)
		}
	}
	return out, nil
}

// readWith reads the whole ruleset, again if the generation moved while it read.
func readWith(conn *netlink.Conn, gen uint32, ns netns, lim Limits) (*Ruleset, error) {
	lim = lim.withDefaults()
	legacy4, legacy6, err := ns.legacy()
	if err != nil {
		if isPerm(err) {
			return unreadable(), nil
		}
		return nil, err
	}
	for try := 0; ; try++ {
		rs, err := readRuleset(conn, lim)
		if err != nil {
			var big *overLimit
			if errors.As(err, &big) {
				return tooLarge(gen, big.what, big.limit), nil
			}
			if isPerm(err) {
				return unreadable(), nil
			}
			return nil, err
		}
		after, err := getGen(conn)
		if err != nil {
			return nil, err
		}
		if after == gen || try == 4 {
			if after != gen {
				return nil, errors.New("firewall: the ruleset kept changing while it was read")
			}
			rs.gen = gen
			rs.legacy4, rs.legacy6 = legacy4, legacy6
			return rs, nil
		}
		gen = after
	}
}

// readRuleset reads a namespace's whole ruleset, one dump per kind of
// object, in the order they refer to each other: tables, chains, sets and
// their elements, rules. Lim bounds the elements and the rules.
func readRuleset(conn *netlink.Conn, lim Limits) (*Ruleset, error) {
	rs := &Ruleset{chains: map[setKey]*chain{}, sets: map[setKey]*set{}}
	tables, err := readTables(conn, rs)
	if err != nil {
		return nil, err
	}
	if len(rs.tables) == 0 {
		return rs, nil
	}
	if err := readChains(conn, rs, tables); err != nil {
		return nil, err
	}
	sets, err := readSets(conn, rs, tables)
	if err != nil {
		return nil, err
	}
	if err := readElements(conn, sets, lim); err != nil {
		return nil, err
	}
	if err := readRules(conn, rs, lim); err != nil {
		return nil, err
	}
	sort.SliceStable(rs.base, func(i, j int) bool { return rs.base[i].prio < rs.base[j].prio })
	return rs, nil
}

// readTables lists the tables, by family and name.
func readTables(conn *netlink.Conn, rs *Ruleset) (map[setKey]*table, error) {
	tables := map[setKey]*table{}
	msgs, err := dump(conn, unix.NFT_MSG_GETTABLE, unix.AF_UNSPEC, nil)
	if err != nil {
		return nil, fmt.Errorf("firewall: listing tables: %w", err)
	}
	for _, m := range msgs {
		t := &table{family: m.Data[0]}
		if err := decodeAttrs(m.Data[4:], func(ad *netlink.AttributeDecoder) {
			switch ad.Type() {
			case unix.NFTA_TABLE_NAME:
				t.name = ad.String()
			case unix.NFTA_TABLE_FLAGS:
				t.flags = ad.Uint32()
			}
		}); err != nil {
			return nil, err
		}
		rs.tables = append(rs.tables, t)
		tables[setKey{t.family, t.name, ""}] = t
	}
	return tables, nil
}

// readChains lists the chains of the tables, and the base chains by hook.
func readChains(conn *netlink.Conn, rs *Ruleset, tables map[setKey]*table) error {
	msgs, err := dump(conn, unix.NFT_MSG_GETCHAIN, unix.AF_UNSPEC, nil)
	if err != nil {
		return fmt.Errorf("firewall: listing chains: %w", err)
	}
	for _, m := range msgs {
		c := &chain{}
		var tname string
		var hookErr error
		if err := decodeAttrs(m.Data[4:], func(ad *netlink.AttributeDecoder) {
			switch ad.Type() {
			case unix.NFTA_CHAIN_NAME:
				c.name = ad.String()
			case unix.NFTA_CHAIN_TABLE:
				tname = ad.String()
			case unix.NFTA_CHAIN_POLICY:
				c.policy = ad.Uint32()
			case unix.NFTA_CHAIN_TYPE:
				c.kind = ad.String()
			case unix.NFTA_CHAIN_HOOK:
				c.base = true
				hookErr = decodeAttrs(ad.Bytes(), func(hd *netlink.AttributeDecoder) {
					switch hd.Type() {
					case unix.NFTA_HOOK_HOOKNUM:
						c.hook = hd.Uint32()
					case unix.NFTA_HOOK_PRIORITY:
						c.prio = int32(hd.Uint32())
					case unix.NFTA_HOOK_DEV:
						c.addDev(hd.String())
					case nftaHookDevs:
						_ = decodeAttrs(hd.Bytes(), func(dd *netlink.AttributeDecoder) {
							c.addDev(dd.String())
						})
					}
				})
			}
		}); err != nil {
			return err
		}
		if hookErr != nil {
			return hookErr
		}
		t := tables[setKey{m.Data[0], tname, ""}]
		if t == nil {
			continue
		}
		c.table = t
		rs.chains[setKey{t.family, t.name, c.name}] = c
		if c.base && t.flags&nftTableDormant == 0 {
			rs.base = append(rs.base, c)
		}
	}

	return nil
}

// readSets lists the sets of the tables, in the kernel's order.
func readSets(conn *netlink.Conn, rs *Ruleset, tables map[setKey]*table) ([]*set, error) {
	msgs, err := dump(conn, unix.NFT_MSG_GETSET, unix.AF_UNSPEC, nil)
	if err != nil {
		return nil, fmt.Errorf("firewall: listing sets: %w", err)
	}
	var sets []*set
	for _, m := range msgs {
		s := &set{}
		var tname string
		if err := decodeAttrs(m.Data[4:], func(ad *netlink.AttributeDecoder) {
			switch ad.Type() {
			case unix.NFTA_SET_NAME:
				s.name = ad.String()
			case unix.NFTA_SET_TABLE:
				tname = ad.String()
			case unix.NFTA_SET_FLAGS:
				s.flags = ad.Uint32()
			case unix.NFTA_SET_KEY_TYPE:
				s.keyType = ad.Uint32()
			case unix.NFTA_SET_KEY_LEN:
				s.keyLen = ad.Uint32()
			case unix.NFTA_SET_DATA_TYPE:
				s.dataType = ad.Uint32()
			case unix.NFTA_SET_DATA_LEN:
				s.dataLen = ad.Uint32()
			case unix.NFTA_SET_DESC:
				_ = decodeAttrs(ad.Bytes(), func(dd *netlink.AttributeDecoder) {
					if dd.Type() != 2 /* NFTA_SET_DESC_CONCAT */ {
						return
					}
					_ = decodeAttrs(dd.Bytes(), func(ld *netlink.AttributeDecoder) {
						_ = decodeAttrs(ld.Bytes(), func(fd *netlink.AttributeDecoder) {
							if fd.Type() == 1 /* NFTA_SET_FIELD_LEN */ {
								s.fields = append(s.fields, int(fd.Uint32()))
							}
						})
					})
				})
			}
		}); err != nil {
			return nil, err
		}
		t := tables[setKey{m.Data[0], tname, ""}]
		if t == nil {
			continue
		}
		s.table = t
		rs.sets[setKey{t.family, t.name, s.name}] = s
		sets = append(sets, s)
		if s.volatile() {
			rs.volatile = true
		}
	}
	return sets, nil
}

// readElements reads each set's elements, within lim's bound on them all.
func readElements(conn *netlink.Conn, sets []*set, lim Limits) error {
	elems := 0
	// in the kernel's order, not the map's: the same ruleset is asked for in the same words, so a
	// recorded conversation (testdata/recorded) reads the same when it is recorded again
	for _, s := range sets {
		msgs, err := dump(conn, unix.NFT_MSG_GETSETELEM, s.table.family, []netlink.Attribute{
			{Type: unix.NFTA_SET_ELEM_LIST_TABLE, Data: cstr(s.table.name)},
			{Type: unix.NFTA_SET_ELEM_LIST_SET, Data: cstr(s.name)},
		})
		if err != nil {
			return fmt.Errorf("firewall: listing set %s: %w", s.name, err)
		}
		for _, m := range msgs {
			if err := decodeAttrs(m.Data[4:], func(ad *netlink.AttributeDecoder) {
				if ad.Type() != unix.NFTA_SET_ELEM_LIST_ELEMENTS {
					return
				}
				_ = decodeAttrs(ad.Bytes(), func(ld *netlink.AttributeDecoder) {
					if ld.Type() != nftaSetElemListElem {
						return
					}
					s.elems = append(s.elems, decodeElem(ld.Bytes()))
				})
			}); err != nil {
				return err
			}
		}
		if elems += len(s.elems); elems > lim.MaxElements {
			return &overLimit{"elements", lim.MaxElements}
		}
	}

	return nil
}

// readRules reads the rules into their chains, within lim's bound.
func readRules(conn *netlink.Conn, rs *Ruleset, lim Limits) error {
	msgs, err := dump(conn, unix.NFT_MSG_GETRULE, unix.AF_UNSPEC, nil)
	if err != nil {
		return fmt.Errorf("firewall: listing rules: %w", err)
	}
	if len(msgs) > lim.MaxRules {
		return &overLimit{"rules", lim.MaxRules}
	}
	for _, m := range msgs {
		r := &rule{rs: rs}
		fam := m.Data[0]
		var tname, cname string
		var exprErr error
		if err := decodeAttrs(m.Data[4:], func(ad *netlink.AttributeDecoder) {
			switch ad.Type() {
			case unix.NFTA_RULE_TABLE:
				tname = ad.String()
			case unix.NFTA_RULE_CHAIN:
				cname = ad.String()
			case unix.NFTA_RULE_HANDLE:
				r.handle = ad.Uint64()
			case unix.NFTA_RULE_USERDATA:
				r.comment = ruleComment(ad.Bytes())
			case unix.NFTA_RULE_EXPRESSIONS:
				exprErr = decodeAttrs(ad.Bytes(), func(ld *netlink.AttributeDecoder) {
					if ld.Type() == unix.NFTA_LIST_ELEM {
						r.nodes = append(r.nodes, decodeExpr(fam, ld.Bytes()))
					}
				})
			}
		}); err != nil {
			return err
		}
		if exprErr != nil {
			return exprErr
		}
		c := rs.chains[setKey{fam, tname, cname}]
		if c == nil {
			continue
		}
		r.chain = c
		c.rules = append(c.rules, r)
		rs.nRules++
	}
	return nil
}

func cstr(s string) []byte { return append([]byte(s), 0) }

// ruleComment is the comment in a rule's userdata (type, length, value records, as libnftnl
// writes them). The kernel keeps userdata as it is given, so anyone who may change the ruleset of
// a namespace (a container's root) can write a record longer than its bytes: google/nftables'
// userdata.Get slices past the end on one (it panics), so the records are read here. A comment
// cut short is no comment.
func ruleComment(b []byte) string {
	const commentType = 0 // NFTNL_UDATA_RULE_COMMENT
	for len(b) >= 2 {
		typ, n := b[0], int(b[1])
		if 2+n > len(b) {
			return ""
		}
		if typ == commentType {
			return string(bytes.TrimSuffix(b[2:2+n], []byte{0}))
		}
		b = b[2+n:]
	}
	return ""
}

func decodeAttrs(b []byte, fn func(ad *netlink.AttributeDecoder)) error {
	ad, err := netlink.NewAttributeDecoder(b)
	if err != nil {
		return err
	}
	ad.ByteOrder = binary.BigEndian
	for ad.Next() {
		fn(ad)
	}
	return ad.Err()
}

// dataValue reads a nested NFTA_DATA_VALUE, or a verdict.
func dataValue(b []byte) (val []byte, v *expr.Verdict) {
	_ = decodeAttrs(b, func(ad *netlink.AttributeDecoder) {
		switch ad.Type() {
		case unix.NFTA_DATA_VALUE:
			val = append([]byte(nil), ad.Bytes()...)
		case unix.NFTA_DATA_VERDICT:
			v = &expr.Verdict{}
			_ = decodeAttrs(ad.Bytes(), func(vd *netlink.AttributeDecoder) {
				switch vd.Type() {
				case unix.NFTA_VERDICT_CODE:
					v.Kind = verdictKind(vd.Uint32())
				case unix.NFTA_VERDICT_CHAIN:
					v.Chain = vd.String()
				}
			})
		}
	})
	return val, v
}

// verdictKind reads a verdict code: negative codes are nftables' own, positive ones netfilter's,
// whose upper bits carry a queue number or an errno.
func verdictKind(code uint32) expr.VerdictKind {
	c := int32(code)
	if c >= 0 {
		c &= 0xff // NF_VERDICT_MASK
	}
	return expr.VerdictKind(c)
}

func decodeElem(b []byte) setElem {
	var e setElem
	_ = decodeAttrs(b, func(ad *netlink.AttributeDecoder) {
		switch ad.Type() {
		case unix.NFTA_SET_ELEM_KEY:
			e.key, _ = dataValue(ad.Bytes())
		case nftaSetElemKeyEnd:
			e.keyEnd, _ = dataValue(ad.Bytes())
		case unix.NFTA_SET_ELEM_DATA:
			e.data, e.verdict = dataValue(ad.Bytes())
		case unix.NFTA_SET_ELEM_FLAGS:
			f := ad.Uint32()
			e.end = f&unix.NFT_SET_ELEM_INTERVAL_END != 0
			e.catchall = f&nftSetElemCatchall != 0
		}
	})
	return e
}

// decodeExpr decodes one expression with google/nftables. google/nftables skips expressions it
// does not know and ignores attributes it does not know: here an expression that is not in the
// list below, or that carries something the evaluator would misread, stays a bare name, and the
// evaluator never decides past it. It is a dispatch table in the shape of
// a switch: one case per expression the kernel names, each a line or two
// (its complexity counts the kinds, not decisions).
func decodeExpr(fam uint8, b []byte) node {
	var n node
	var data []byte
	_ = decodeAttrs(b, func(ad *netlink.AttributeDecoder) {
		switch ad.Type() {
		case unix.NFTA_EXPR_NAME:
			n.name = ad.String()
		case unix.NFTA_EXPR_DATA:
			data = ad.Bytes()
		}
	})
	n.raw = data
	var e expr.Any
	switch n.name {
	case "meta":
		e = &expr.Meta{}
	case "payload":
		e = &expr.Payload{}
	case "cmp":
		e = &expr.Cmp{}
	case "bitwise":
		op := uint32(0)
		_ = decodeAttrs(data, func(ad *netlink.AttributeDecoder) {
			if ad.Type() == nftaBitwiseOp {
				op = ad.Uint32()
			}
		})
		if op != 0 { // only mask-and-xor is evaluated; shifts and the rest stay opaque
			return n
		}
		e = &expr.Bitwise{}
	case "lookup":
		e = &expr.Lookup{}
	case "immediate":
		e = &expr.Immediate{}
	case "counter":
		e = &expr.Counter{}
	case "log":
		e = &expr.Log{}
	case "limit":
		e = &expr.Limit{}
	case "reject":
		e = &expr.Reject{}
	case "ct":
		e = &expr.Ct{}
	case "range":
		e = &expr.Range{}
	case "byteorder":
		e = &expr.Byteorder{}
	case "match":
		e = &expr.Match{}
	case "target":
		e = &expr.Target{}
	case "dynset":
		e = &expr.Dynset{}
	case "objref":
		e = &expr.Objref{}
	case "quota":
		e = &expr.Quota{}
	case "connlimit":
		e = &expr.Connlimit{}
	case "fib":
		e = &expr.Fib{}
	case "exthdr":
		e = &expr.Exthdr{}
	case "socket":
		e = &expr.Socket{}
	case "rt":
		e = &expr.Rt{}
	case "numgen":
		e = &expr.Numgen{}
	case "hash":
		e = &expr.Hash{}
	case "nat":
		e = &expr.NAT{}
	case "notrack":
		n.e = &expr.Notrack{}
		return n
	default:
		return n
	}
	if err := expr.Unmarshal(fam, data, e); err != nil || !fitsRegisters(e) {
		return n
	}
	// An immediate into the verdict register is a verdict (as google/nftables reads it).
	if imm, ok := e.(*expr.Immediate); ok && imm.Register == unix.NFT_REG_VERDICT {
		_ = decodeAttrs(data, func(ad *netlink.AttributeDecoder) {
			if ad.Type() == unix.NFTA_IMMEDIATE_DATA {
				if _, v := dataValue(ad.Bytes()); v != nil {
					e = v
				}
			}
		})
		if _, still := e.(*expr.Immediate); still {
			return n
		}
	}
	n.e = e
	return n
}

// regBytes is what the kernel's registers hold: 16 of 4 bytes (NFT_REG32_00..15).
const regBytes = 64

// fitsRegisters says whether the lengths an expression gives fit the registers. The kernel refuses
// any other, so a longer one did not come from it, and the evaluator, which allocates what a
// length says, is not asked to follow it.
func fitsRegisters(e expr.Any) bool {
	switch e := e.(type) {
	case *expr.Payload:
		return e.Len <= regBytes
	case *expr.Bitwise:
		return e.Len <= regBytes
	case *expr.Byteorder: // google/nftables v0.3.0 does not decode it yet
		return e.Len <= regBytes && e.Size <= 8
	case *expr.Exthdr:
		return e.Len <= regBytes
	}
	return true
}

// sortedElems is a set's elements in key order, an interval end first on a tie.
func sortedElems(s *set) []setElem {
	out := append([]setElem(nil), s.elems...)
	sort.SliceStable(out, func(i, j int) bool {
		if c := bytes.Compare(out[i].key, out[j].key); c != 0 {
			return c < 0
		}
		return out[i].end && !out[j].end
	})
	return out
}
