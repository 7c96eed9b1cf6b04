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

// The rules the lab's firewall step puts on a port, as nft writes them.
const (
	ruleDrop  = "drop"                  // nmap: filtered (no answer)
	ruleReset = "reject with tcp reset" // nmap: closed (a reset, as from a port nothing listens on)
)

// setRule makes the lab's table hold one rule on port, what `nft` would
// write as
//
//	table inet portwatch_lab {
//	  chain input {
//	    type filter hook input priority filter; policy accept;
//	    tcp dport PORT drop          (or: reject with tcp reset)
//	  }
//	}
//
// through netlink (google/nftables): no nft binary at run time. The table
// is deleted and made again in one transaction, so the rule changes at
// once. Only ever called in the lab's own namespace, which takes the table
// with it when it dies; removeDropRule deletes it sooner.
func setRule(port uint16, verdict string) error {
	c, err := nftables.New()
	if err != nil {
		return err
	}
	t := &nftables.Table{Family: nftables.TableFamilyINet, Name: labTable}
	if tables, err := c.ListTablesOfFamily(nftables.TableFamilyINet); err == nil {
		for _, old := range tables {
			if old.Name == labTable {
				c.DelTable(old)
			}
		}
	}
	t = c.AddTable(t)
	accept := nftables.ChainPolicyAccept
	ch := c.AddChain(&nftables.Chain{Name: "input", Table: t, Type: nftables.ChainTypeFilter,
		Hooknum: nftables.ChainHookInput, Priority: nftables.ChainPriorityFilter, Policy: &accept})
	p := make([]byte, 2)
	binary.BigEndian.PutUint16(p, port)
	exprs := []expr.Any{
		&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{unix.IPPROTO_TCP}},
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 2, Len: 2}, // destination port
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: p},
	}
	if verdict == ruleReset {
		exprs = append(exprs, &expr.Reject{Type: unix.NFT_REJECT_TCP_RST})
	} else {
		exprs = append(exprs, &expr.Verdict{Kind: expr.VerdictDrop})
	}
	c.AddRule(&nftables.Rule{Table: t, Chain: ch, Exprs: exprs})
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
