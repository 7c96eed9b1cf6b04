package poll_test

import (
	"os/exec"
	"strings"
	"testing"
)

// The data model and everything that judges it link no kernel-interface
// library: the firewall reaches them only as sockets.Firewall and the
// vocabulary of sockets/reach, so they build for any system and a test of
// the judgement needs no netlink (issue 20). go list answers for the
// packages as they build here.
func TestDataModelLinksNoKernelInterface(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH")
	}
	pkgs := []string{"sockets", "sockets/reach", "sockets/assess", "sockets/baseline", "sockets/events",
		"sockets/traffic", "sockets/poll", "tui/rowset"}
	for _, p := range pkgs {
		out, err := exec.Command(goTool, "list", "-deps", "github.com/portwatch/portwatch/"+p).CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps %s: %v\n%s", p, err, out)
		}
		for _, dep := range strings.Fields(string(out)) {
			if strings.Contains(dep, "nftables") || strings.Contains(dep, "netlink") || strings.HasSuffix(dep, "sockets/firewall") ||
				strings.HasSuffix(dep, "sockets/collect") || strings.HasSuffix(dep, "sockets/lab") {
				t.Errorf("%s links %s", p, dep)
			}
		}
	}
}
