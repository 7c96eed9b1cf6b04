//go:build linux

package assess

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/portwatch/portwatch/sockets/reach"
	"github.com/portwatch/portwatch/sockets/sockettest"
)

// A real ruleset in a namespace the test makes: the database it drops is
// not exposed to the network (MEDIUM, bind it to loopback anyway), the web
// port it accepts is open, and the verdicts name the rules.
func TestRealFirewallVerdicts(t *testing.T) {
	sockettest.NeedRoot(t, "to make a network namespace and load a ruleset")
	for _, tool := range []string{"ip", "nft", "python3"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed", tool)
		}
	}
	name := fmt.Sprintf("pwfwa%d", os.Getpid())
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Skipf("cannot make a network namespace here: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", name).Run() })
	exec.Command("ip", "-n", name, "link", "set", "lo", "up").Run()
	rules := `table inet pwtest {
  chain input {
    type filter hook input priority 0; policy drop;
    iifname "lo" accept
    tcp dport 8080 accept
  }
}
`
	nft := exec.Command("ip", "netns", "exec", name, "nft", "-f", "-")
	nft.Stdin = strings.NewReader(rules)
	if out, err := nft.CombinedOutput(); err != nil {
		t.Skipf("cannot load a ruleset here: %v %s", err, out)
	}
	cmd := exec.Command("ip", "netns", "exec", name, "python3", scriptFile(t, `import socket,time
ls=[]
for p in (8080, 5432):
    s=socket.socket(); s.bind(("0.0.0.0",p)); s.listen(); ls.append(s)
print("ready", flush=True); time.sleep(60)`))
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	if line, _ := bufio.NewReader(out).ReadString('\n'); line != "ready\n" {
		t.Fatalf("the listeners did not start: %q", line)
	}
	db, web := liveFirewallVerdict(t, name, 5432), liveFirewallVerdict(t, name, 8080)
	if db.Firewall().Kind != reach.Filtered || !strings.Contains(db.Firewall().Rule, "policy drop") || db.Risk != RiskMedium ||
		hasCode(db.Findings, CodeBehindFirewall) == nil || hasCode(db.Findings, CodeDBExposed) != nil || db.Reachable() {
		t.Errorf("postgres' port behind policy drop: %s %q risk %s %v", db.Firewall().Kind, db.Firewall().Rule, db.Risk, db.Findings)
	}
	if web.Firewall().Kind != reach.Open || !strings.Contains(web.Firewall().Rule, "tcp dport 8080 accept") || !web.Reachable() {
		t.Errorf("8080 accepted: %s %q", web.Firewall().Kind, web.Firewall().Rule)
	}
}
