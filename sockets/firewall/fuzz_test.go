//go:build linux

package firewall

import (
	"encoding/hex"
	"testing"
)

// FuzzReplayedRules feeds altered rule replies of a recording to the reader and the evaluator:
// whatever the bytes, a read is a ruleset or an error, and a verdict is a verdict, never a panic.
func FuzzReplayedRules(f *testing.F) {
	rec, err := loadRecording(recordingPath("TestMoreAgainstKernel"))
	if err != nil {
		f.Fatal(err)
	}
	st := rec.Steps[0]
	var rules []int // the exchange and reply of each rule
	for i, ex := range st.Netlink {
		if ex.Request.What == "getrule" {
			for j := range ex.Replies {
				rules = append(rules, i<<8|j)
				b, _ := ex.Replies[j].bytes()
				f.Add(uint8(len(rules)-1), b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		ij := rules[int(which)%len(rules)]
		i, j := ij>>8, ij&0xff
		ex := append([]exchange(nil), st.Netlink...)
		replies := append([]wireMsg(nil), ex[i].Replies...)
		replies[j].Data = []string{hex.EncodeToString(data)}
		ex[i].Replies = replies
		rs, err := readNS(&replayNS{conv: newConversation(ex)})
		if err != nil {
			return
		}
		for _, p := range []uint16{22, 8053, 8080, 8084, 8086, 8088, 8089} {
			_ = rs.Evaluate("tcp", wildcard, p).Kind
			_ = rs.Evaluate("udp", wildcard, p).Kind
		}
		ruleLines(rs)
	})
}
