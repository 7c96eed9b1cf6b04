package tui

import (
	"testing"

	"github.com/portwatch/portwatch/tui/rowset"
)

// On the connection tabs, a narrow screen drops REMOTE before LOCAL: our
// own address and port are where an analyst starts (which of our services
// is this?). Before, LOCAL went first and an 80-column All tab showed whom
// a connection reached but not on which of our ports.
func TestNarrowConnectionTabsKeepLocalLongest(t *testing.T) {
	for _, tab := range []rowset.Tab{rowset.Established, rowset.All} {
		for width := 20; width <= 200; width++ {
			cols, _ := fitColumns(tabColumns[tab], width)
			local, remote := false, false
			for _, c := range cols {
				local = local || c.title == "LOCAL"
				remote = remote || c.title == "REMOTE"
			}
			if remote && !local {
				t.Fatalf("tab %d at width %d keeps REMOTE but drops LOCAL", tab, width)
			}
		}
	}
}
