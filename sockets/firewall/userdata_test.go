//go:build linux

package firewall

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
)

// TestBadUserdata: the kernel keeps a rule's userdata as it is given, so whoever may change a
// namespace's ruleset (a container's root) can write a comment record longer than its bytes.
// google/nftables' userdata.Get panicked on it; the reader drops the comment and keeps the rule.
func TestBadUserdata(t *testing.T) {
	l := newLab(t, "udata", "tcp:8080")
	l.nft(`table inet pwfw {
	chain input {
		type filter hook input priority filter; policy accept;
	}
}`)
	f, err := os.Open(fmt.Sprintf("/proc/%d/ns/net", l.pid))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c, err := nftables.New(nftables.WithNetNSFd(int(f.Fd())))
	if err != nil {
		t.Fatal(err)
	}
	tbl := &nftables.Table{Family: nftables.TableFamilyINet, Name: "pwfw"}
	c.AddRule(&nftables.Rule{
		Table:    tbl,
		Chain:    &nftables.Chain{Name: "input", Table: tbl},
		Exprs:    []expr.Any{&expr.Verdict{Kind: expr.VerdictDrop}},
		UserData: []byte{0, 50, 'c', 'u', 't'}, // a comment of 50 bytes, 3 given
	})
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
	l.read(l.probeAll([]probe{{"tcp", cliAddr4, 8080}}))
}

func checkBadUserdata(t *testing.T, rs *Ruleset, seen map[probe]string) {
	p := probe{"tcp", cliAddr4, 8080}
	if seen[p] != "filtered" {
		t.Errorf("the kernel: %s, the lab expects filtered (the rule drops)", seen[p])
	}
	v := rs.Evaluate("tcp", wildcard, 8080)
	if v.Kind != Filtered || !strings.HasPrefix(v.Rule, "chain inet pwfw input: drop # handle ") {
		t.Errorf("a rule with a cut comment: %+v", v)
	}
}

func TestRuleComment(t *testing.T) {
	for _, c := range []struct {
		udata []byte
		want  string
	}{
		{[]byte{0, 4, 'w', 'e', 'b', 0}, "web"},
		{[]byte{1, 1, 9, 0, 3, 'o', 'k', 0}, "ok"}, // another record first
		{[]byte{0, 50, 'c', 'u', 't'}, ""},
		{[]byte{1, 200, 0, 3, 'o', 'k', 0}, ""},
		{[]byte{0}, ""},
		{nil, ""},
	} {
		if got := ruleComment(c.udata); got != c.want {
			t.Errorf("%v: %q, want %q", c.udata, got, c.want)
		}
	}
}
