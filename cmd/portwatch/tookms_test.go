//go:build linux

package main

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"testing"
	"time"
)

// --json's took_ms counts the firewall's time too: with a namespace an unprivileged user planted
// with a ruleset slow to judge, the first poll waits for it (bounded), and took_ms says so.
func TestTookMsCountsTheFirewall(t *testing.T) {
	if testing.Short() || os.Geteuid() != 0 {
		t.Skip("needs root and a planted namespace")
	}
	for _, tool := range []string{"setpriv", "unshare", "nft", "/usr/bin/python3"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed", tool)
		}
	}
	bin := sharedBinary(t)
	plant := exec.Command("setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups", "unshare", "-rn", "sh", "-c", `set -e
nft add table inet t
nft add set inet t s '{ type ipv4_addr; flags interval; }'
nft add chain inet t in '{ type filter hook input priority 0; policy drop; }'
nft add rule inet t in ip saddr @s tcp dport 1-65535 accept
i=0
while [ $i -lt 8000 ]; do
  line=""; j=0
  while [ $j -lt 1000 ]; do line="$line 10.$((i/65536%256)).$((i/256%256)).$((i%256)),"; i=$((i+1)); j=$((j+1)); done
  nft add element inet t s "{ ${line%,} }"
done
exec /usr/bin/python3 -c '
import socket, sys
ls = [socket.socket() for _ in range(150)]
for i, s in enumerate(ls): s.bind(("0.0.0.0", 42000 + i)); s.listen()
print("ready", flush=True); sys.stdin.readline()'`)
	in, _ := plant.StdinPipe()
	out, _ := plant.StdoutPipe()
	plant.Stderr = os.Stderr
	if err := plant.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Close(); plant.Process.Kill(); plant.Wait() })
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(out)
		ready <- sc.Scan() && sc.Text() == "ready"
	}()
	select {
	case ok := <-ready:
		if !ok {
			t.Skip("an unprivileged user cannot plant a firewall here")
		}
	case <-time.After(60 * time.Second):
		t.Fatal("the planted namespace was not ready within 60 s")
	}
	start := time.Now()
	doc, err := exec.Command(bin, "--json").Output()
	wall := time.Since(start)
	if err != nil {
		t.Fatalf("--json: %v", err)
	}
	var got struct {
		TookMS float64 `json:"took_ms"`
	}
	if err := json.Unmarshal(doc, &got); err != nil {
		t.Fatal(err)
	}
	took := time.Duration(got.TookMS * float64(time.Millisecond))
	// the process's own start and the printing are what took_ms may leave
	// out: under a second, or half the run on a machine whose thousands of
	// sockets take seconds to print (took_ms left out the firewall's
	// seconds before: 336 ms for a run of 27 s)
	if took > wall || wall-took > max(time.Second, wall/2) {
		t.Errorf("took_ms %v for a run of %v", took, wall)
	}
	t.Logf("took_ms %v, run %v", took, wall)
}
