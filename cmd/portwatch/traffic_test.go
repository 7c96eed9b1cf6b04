//go:build linux

package main

import (
	"encoding/json"
	"io"
	"strconv"
	"testing"
	"time"

	"github.com/portwatch/portwatch/sockets/sockettest"
)

// The byte counts --json gives for the test's own connection match what
// the test sent each way.
func TestJSONByteCountsOfOurConnection(t *testing.T) {
	p := sockettest.LoopbackPair(t)
	client, server := p.Client, p.Server
	const up, down = 300_000, 120_000
	go io.Copy(io.Discard, server)
	if _, err := client.Write(make([]byte, up)); err != nil {
		t.Fatal(err)
	}
	go server.Write(make([]byte, down))
	buf := make([]byte, down)
	if _, err := io.ReadFull(client, buf); err != nil {
		t.Fatal(err)
	}
	sockettest.WaitDelivered(t, 5*time.Second, client, server) // the last ACKs
	code, out, errOut := runArgs(t, "--json", "--established")
	if code != 0 {
		t.Fatalf("--json: %d %s", code, errOut)
	}
	var doc struct {
		Sockets []map[string]any `json:"sockets"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	clientPort := strconv.Itoa(int(p.ClientAddr().Port()))
	for _, s := range doc.Sockets {
		if strconv.Itoa(int(s["local_port"].(float64))) != clientPort || s["remote_port"].(float64) != float64(p.ServerAddr().Port()) {
			continue
		}
		sent, _ := s["bytes_sent"].(float64)
		recv, _ := s["bytes_received"].(float64)
		// bytes_acked counts the SYN too on the side that connected.
		if sent < up || sent > up+1 || recv != down {
			t.Errorf("our client's end: bytes_sent %v bytes_received %v, want %d(+1) and %d", s["bytes_sent"], s["bytes_received"], up, down)
		}
		if _, ok := s["rtt_ms"].(float64); !ok {
			t.Error("no rtt_ms")
		}
		return
	}
	t.Fatalf("our connection from port %s is not in --json", clientPort)
}
