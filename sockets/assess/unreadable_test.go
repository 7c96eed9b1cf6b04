package assess

import (
	"strings"
	"testing"

	"github.com/portwatch/portwatch/sockets"
)

// Root that holds CAP_SYS_PTRACE is not told to get it: the finding and the explanation point at
// the reasons instead; without it, the advice stays.
func TestUnreadableOwnerAdviceFollowsCapSysPtrace(t *testing.T) {
	kb := testKnowledge(t)
	for _, held := range []bool{false, true} {
		s := sock(sockets.TCP, "0.0.0.0", 4444, "0.0.0.0", 0, "LISTEN", 7)
		s.OwnerStatus = sockets.OwnerUnreadable
		s.Unreadable = &sockets.UnreadableOwners{Ptrace: held, Processes: []sockets.UnreadableProcess{
			{PID: 1, Reason: "permission denied, though portwatch holds CAP_SYS_PTRACE: the process holds capabilities portwatch lacks (CAP_SYS_RESOURCE)"}}}
		v := judged(kb, s).Verdicts[0]
		var text string
		for _, f := range v.Findings {
			if f.Code == CodeOwnerUnreadable {
				text = f.Text
			}
		}
		absence := OwnerAbsence(&v.Socket)
		advises := strings.Contains(text, "Run portwatch as root, with CAP_SYS_PTRACE") || strings.Contains(absence, "Root with CAP_SYS_PTRACE may read them")
		if advises == held {
			t.Errorf("CAP_SYS_PTRACE held %v: finding %q, explanation %q", held, text, absence)
		}
		if held && (!strings.Contains(text, "CAP_SYS_RESOURCE") || !strings.Contains(text, "portwatch holds CAP_SYS_PTRACE") || strings.Count(text, "CAP_SYS_PTRACE") != 1) {
			t.Errorf("held: the finding does not say what is in the way: %q", text)
		}
	}
}
