//go:build linux

package firewall

import (
	"testing"

	"github.com/google/nftables/expr"
)

// TestImplausibleLength: an expression whose length no register can hold stays opaque, so the
// evaluator says Unknown there instead of allocating what the length says (FuzzReplayedRules
// found a payload of 805 MB, evaluated in 14 s).
func TestImplausibleLength(t *testing.T) {
	for _, c := range []struct {
		e    expr.Any
		fits bool
	}{
		{&expr.Payload{Base: expr.PayloadBaseTransportHeader, Offset: 2, Len: 2, DestRegister: 1}, true},
		{&expr.Payload{Base: expr.PayloadBaseTransportHeader, Offset: 2, Len: 0x30000002, DestRegister: 1}, false},
		{&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4, Mask: []byte{0xff, 0xff, 0xff, 0}, Xor: make([]byte, 4)}, true},
		{&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 65, Mask: []byte{0xff}, Xor: []byte{0}}, false},
		{&expr.Exthdr{DestRegister: 1, Type: 2, Offset: 0, Len: 4}, true},
		{&expr.Exthdr{DestRegister: 1, Type: 2, Offset: 0, Len: 1 << 31}, false},
	} {
		b, err := expr.Marshal(famINET, c.e)
		if err != nil {
			t.Fatal(err)
		}
		n := decodeExpr(famINET, b)
		if n.name == "" || (n.e != nil) != c.fits {
			t.Errorf("%T %+v: decoded %v, want decoded %v", c.e, c.e, n.e != nil, c.fits)
		}
	}
}
