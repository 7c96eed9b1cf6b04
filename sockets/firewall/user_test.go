//go:build linux

package firewall

import (
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
