//go:build linux

package firewall

import (
	"encoding/binary"
	"slices"
	"sort"

	"golang.org/x/sys/unix"
)

// The ports of a DNAT that names none: kube-proxy's nftables mode matches a NodePort as a key of a
// concatenated verdict map ("meta l4proto . th dport vmap @service-nodeports", elements
// "tcp . 30080 : goto external-..."), and the endpoint chain it leads to DNATs with no port of
// its own ("meta l4proto tcp dnat to 10.244.0.5:8080"); its iptables mode matches the port in
// KUBE-NODEPORTS and DNATs in a KUBE-SEP chain with "-p tcp -m tcp" alone. Such a DNAT's
// candidate ports are those its table's rules match and its verdict maps' keys; the walk of the
// input path (publishedFor) then decides which of them really reach it, so a port that does not
// (a ClusterIP's) is not published.

// nft's datatype ids (nftables' include/datatype.h), and a concatenation's layout: each field's
// id takes typeBits bits of the key type, the first field highest.
const (
	typeBits        = 6
	typeIPv4Addr    = 7
	typeIPv6Addr    = 8
	typeEtherAddr   = 9
	typeInetProto   = 12
	typeInetService = 13
	typeMark        = 19
	typeIfindex     = 20
	typeIfname      = 41
	dataVerdict     = 0xffffff00 // NFT_DATA_VERDICT
	maxConcatFields = 5          // a concatenation's most fields (NFT_REG32_COUNT / 3 in practice)
)

// typeSize is the bytes of a field of an nft datatype (0: not known here).
var typeSize = map[uint32]int{typeIPv4Addr: 4, typeIPv6Addr: 16, typeEtherAddr: 6, typeInetProto: 1,
	typeInetService: 2, typeMark: 4, typeIfindex: 4, typeIfname: unix.IFNAMSIZ}

// keyField is one field of a set's key: its datatype, offset and length.
type keyField struct {
	typ       uint32
	off, size int
}

// keyFields reads a set's key type as its fields, each padded to a register's 4 bytes; ok is false
// for a type this does not know or a layout that does not add up to the key's length.
func keyFields(s *set) ([]keyField, bool) {
	var ids []uint32
	for t := s.keyType; t != 0 && len(ids) <= maxConcatFields; t >>= typeBits {
		ids = append([]uint32{t & (1<<typeBits - 1)}, ids...)
	}
	if len(ids) == 0 || len(ids) > maxConcatFields {
		return nil, false
	}
	var out []keyField
	off := 0
	for _, id := range ids {
		n := typeSize[id]
		if n == 0 {
			return nil, false
		}
		out = append(out, keyField{id, off, n})
		off += 4 * words(n)
	}
	if len(ids) == 1 {
		off = out[0].size
	}
	return out, off == int(s.keyLen)
}

// tablePorts are a port-less DNAT's candidates: the protocol and port every rule of its table
// matches (kube-proxy's iptables mode, "-A KUBE-NODEPORTS -p tcp -m tcp --dport 30080 -j
// KUBE-EXT-..."), and every element of its verdict maps whose key holds a port (and a protocol:
// else the DNAT rule's own, proto).
// Each is walked through the input path: the port-less DNATs of a table give at most
// maxPortlessCandidates, the lowest ports (a candidate's walk crosses kube-proxy's KUBE-SERVICES,
// a rule per Service: 1000 Services in iptables mode cost seconds without the bound).
func (r *Ruleset) tablePorts(t *table, proto uint8) []candidate {
	out := r.tablePortsAll(t, proto)
	sort.Slice(out, func(i, j int) bool {
		if out[i].port != out[j].port {
			return out[i].port < out[j].port
		}
		return out[i].proto < out[j].proto
	})
	out = slices.Compact(out)
	if len(out) > maxPortlessCandidates {
		out = out[:maxPortlessCandidates]
	}
	return out
}

// maxPortlessCandidates bounds the ports tablePorts gives a table's port-less DNATs.
const maxPortlessCandidates = 256

func (r *Ruleset) tablePortsAll(t *table, proto uint8) []candidate {
	var out []candidate
	for _, c := range r.chains {
		if c.table != t {
			continue
		}
		for _, ru := range c.rules {
			var d dnatScan
			for _, n := range ru.nodes {
				d.node(n)
			}
			if d.port != 0 && (d.proto == unix.IPPROTO_TCP || d.proto == unix.IPPROTO_UDP) {
				out = append(out, candidate{proto: d.proto, port: d.port})
			}
		}
	}
	for _, s := range r.sets {
		if s.table != t || s.dataType != dataVerdict {
			continue
		}
		fs, ok := keyFields(s)
		if !ok {
			continue
		}
		for _, e := range s.elems {
			if e.catchall || e.end || len(e.key) != int(s.keyLen) {
				continue
			}
			c := candidate{proto: proto}
			for _, f := range fs {
				switch f.typ {
				case typeInetProto:
					c.proto = e.key[f.off]
				case typeInetService:
					c.port = binary.BigEndian.Uint16(e.key[f.off:])
				}
			}
			if c.port != 0 && (c.proto == unix.IPPROTO_TCP || c.proto == unix.IPPROTO_UDP) {
				out = append(out, c)
			}
		}
	}
	return out
}
