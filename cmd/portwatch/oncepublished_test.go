//go:build linux

package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// labNetns makes a named network namespace (ip netns) for one test, removed after it: root,
// ip and nft needed, else the test skips.
func labNetns(t *testing.T, prefix string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: a network namespace and nft rules in it")
	}
	for _, tool := range []string{"ip", "nft"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed", tool)
		}
	}
	name := fmt.Sprintf("%s%d", prefix, os.Getpid())
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Skipf("ip netns add: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", name).Run() })
	return name
}

func inNetns(t *testing.T, ns string, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", append([]string{"netns", "exec", ns}, args...)...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// A DNAT in a namespace with no socket behind it (no docker-proxy: Podman, kube-proxy, Docker
// without its userland proxy) is listed in --once's PUBLISHED section, with where it goes, the
// forward path's verdict and rule, and, as the input path drops the port the forward path
// admits, the published-past-firewall finding with its remedy.
func TestOncePublishedWithoutSocket(t *testing.T) {
	ns := labNetns(t, "pwpub")
	inNetns(t, ns, "sysctl", "-qw", "net.ipv4.ip_forward=1")
	rules := t.TempDir() + "/rules.nft"
	if err := os.WriteFile(rules, []byte(`table ip nat {
	chain prerouting { type nat hook prerouting priority dstnat; tcp dport 18080 dnat to 10.99.0.2:80; }
}
table inet filter {
	chain input { type filter hook input priority filter; policy drop; }
	chain forward { type filter hook forward priority filter; policy accept; }
}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	inNetns(t, ns, "nft", "-f", rules)
	// portwatch reads the rules of namespaces it finds through their processes' sockets: one
	// listener of its own there, on loopback and not on the published port.
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 is not installed")
	}
	holder := exec.Command("ip", "netns", "exec", ns, "python3", "-c",
		`import socket,time
s=socket.socket(); s.bind(("127.0.0.1",0)); s.listen(); print(1, flush=True); time.sleep(60)`)
	stdout, err := holder.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { holder.Process.Kill(); holder.Wait() })
	if _, err := stdout.Read(make([]byte, 2)); err != nil {
		t.Fatalf("the namespace's listener did not start: %v", err)
	}
	code, out, errOut := runArgs(t, "--once", "--listening")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	i := strings.Index(out, "\nPUBLISHED (")
	if i < 0 {
		t.Fatalf("no published section:\n%s", out)
	}
	var row string
	for _, l := range strings.Split(out[i:], "\n") {
		if strings.HasPrefix(l, ns+" ") && strings.Contains(l, " 18080 ") {
			row = l
		}
	}
	f := strings.Fields(row)
	if len(f) < 10 || f[1] != "tcp4" || f[2] != "0.0.0.0" || f[4] != "10.99.0.2:80" || f[5] != "-" || f[8] != "DNAT" || f[9] != "open" ||
		!strings.Contains(row, "chain inet filter forward: policy accept") {
		t.Errorf("published row %q; want tcp 0.0.0.0 18080 to 10.99.0.2:80, nothing inside, DNAT, open by the forward policy:\n%s", row, out[i:])
	}
	var finding string
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "published-past-firewall") && strings.Contains(l, ":18080") {
			finding = l
		}
	}
	if !strings.HasPrefix(finding, "HIGH") || !strings.Contains(finding, "Remedy: ") {
		t.Errorf("no HIGH published-past-firewall finding with its remedy for 18080:\n%s", out)
	}
	// The DNAT rule says where it sends the port, as nft writes it.
	if !strings.Contains(finding, "tcp dport 18080 dnat to 10.99.0.2:80 # handle") {
		t.Errorf("the finding's DNAT rule does not say where it goes: %s", finding)
	}
	checkPublishedJSON(t, ns)
}

// checkPublishedJSON: --json lists the same published port with who publishes it (an admin's
// own DNAT: no publisher, no -p mapping, both keys present) and its finding.
func checkPublishedJSON(t *testing.T, ns string) {
	code, out, errOut := runArgs(t, "--json")
	if code != 0 {
		t.Fatalf("--json: exit %d: %s", code, errOut)
	}
	var doc struct {
		Published []map[string]any `json:"published"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	for _, p := range doc.Published {
		if p["netns"] != ns || p["host_port"] != float64(18080) {
			continue
		}
		pub, okP := p["publisher"].(string)
		mapping, okM := p["mapping"].(string)
		if p["to"] != "10.99.0.2:80" || !okP || pub != "" || !okM || mapping != "" || !strings.Contains(fmt.Sprint(p["findings"]), "published-past-firewall") {
			t.Errorf("published entry %v; want to 10.99.0.2:80, publisher and mapping \"\" (an admin's DNAT), the finding", p)
		}
		return
	}
	t.Errorf("--json lists no published port 18080 in %s: %v", ns, doc.Published)
}
