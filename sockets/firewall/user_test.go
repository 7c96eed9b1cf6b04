//go:build linux

package firewall

import (
	"fmt"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestReadAsUser reads the real kernel as the user running the tests, when that user cannot read
// the ruleset: the kernel refuses nftables' requests (EPERM without CAP_NET_ADMIN), and Read and
// the Cache say so in every verdict instead of failing. As root, TestNotRoot drops the capability
// on a thread instead.
func TestReadAsUser(t *testing.T) {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		t.Fatal(err)
	}
	if data[unix.CAP_NET_ADMIN/32].Effective&(1<<(unix.CAP_NET_ADMIN%32)) != 0 {
		t.Skip("this user has CAP_NET_ADMIN and may read the ruleset: TestNotRoot covers the refusal")
	}
	rs, err := Read(0)
	if err != nil {
		t.Fatal(err)
	}
	if v := rs.Evaluate("tcp", wildcard, 22); v.Kind != Unknown || v.Reason != ReasonNotRoot {
		t.Errorf("Read: %+v", v)
	}
	var c Cache
	defer c.Close()
	rs, err = c.Ruleset(0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if v := rs.Evaluate("udp", wildcard, 53); v.Kind != Unknown || v.Reason != ReasonNotRoot {
		t.Errorf("Cache: %+v", v)
	}
}

func TestParseLocalAddrs(t *testing.T) {
	trie := "Main:\n  +-- 0.0.0.0/0 3 0 5\n     |-- 10.0.0.5\n        /32 host LOCAL\n     |-- 10.0.0.255\n        /32 link BROADCAST\n" +
		"     |-- 127.0.0.1\n        /32 host LOCAL\n     |-- bad\n        /32 host LOCAL\n"
	got := parseFibTrie(strings.NewReader(trie))
	if fmt.Sprint(got) != "[10.0.0.5]" {
		t.Errorf("fib_trie: %v", got)
	}
	inet6 := "00000000000000000000000000000001 01 80 10 80       lo\n" +
		"fd000200000000000000000000000001 02 40 00 80    veth0\n" +
		"fe800000000000000000000000000001 02 40 20 40    veth0\n" + // tentative
		"zz 02 40 20 80 x\n"
	if got := parseIfInet6(strings.NewReader(inet6)); fmt.Sprint(got) != "[fd00:200::1]" {
		t.Errorf("if_inet6: %v", got)
	}
}
