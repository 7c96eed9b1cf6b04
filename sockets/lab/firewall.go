//go:build linux

package lab

import (
	"encoding/binary"
	"fmt"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// labTable is the nftables table the lab adds to its own namespace.
const labTable = "portwatch_lab"

// dropRule installs, in this process's network namespace, what `nft` would
// write as
//
//	table inet portwatch_lab {
//	  chain input {
//	    type filter hook input priority filter; policy accept;
//	    tcp dport PORT drop
//	  }
//	}
//
// through netlink (google/nftables): no nft binary at run time. Only ever
// called in the lab's own namespace, which takes the table with it when it
// dies; removeDropRule deletes it sooner.
func dropRule(port uint16) error {
	c, err := nftables.New()
	if err != nil {
		return err
	}
	t := c.AddTable(&nftables.Table{Family: nftables.TableFamilyINet, Name: labTable})
	accept := nftables.ChainPolicyAccept
	ch := c.AddChain(&nftables.Chain{Name: "input", Table: t, Type: nftables.ChainTypeFilter,
		Hooknum: nftables.ChainHookInput, Priority: nftables.ChainPriorityFilter, Policy: &accept})
	p := make([]byte, 2)
	binary.BigEndian.PutUint16(p, port)
	c.AddRule(&nftables.Rule{Table: t, Chain: ch, Exprs: []expr.Any{
		&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{unix.IPPROTO_TCP}},
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 2, Len: 2}, // destination port
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: p},
		&expr.Verdict{Kind: expr.VerdictDrop},
	}})
	if err := c.Flush(); err != nil {
		return fmt.Errorf("installing the firewall rule: %w", err)
	}
	return nil
}

// removeDropRule deletes the lab's table, if it is there.
func removeDropRule() error {
	c, err := nftables.New()
	if err != nil {
		return err
	}
	tables, err := c.ListTablesOfFamily(nftables.TableFamilyINet)
	if err != nil {
		return err
	}
	for _, t := range tables {
		if t.Name == labTable {
			c.DelTable(t)
			return c.Flush()
		}
	}
	return nil
}
