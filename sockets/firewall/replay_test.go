//go:build linux

package firewall

import (
	"net/netip"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// stepCheck is what a kernel test checks after one read of the ruleset. It runs on the ruleset
// read from the kernel and, in TestReplay, on the one read from the recording, with what the
// kernel did to the probes then (nil when the read probed nothing).
type stepCheck func(t *testing.T, rs *Ruleset, seen map[probe]string)

// recordedTest is a kernel test whose reads are recorded: a check per read, or (for the cache) a
// story told to caches.
type recordedTest struct {
	steps []stepCheck
	cache func(t *testing.T, pid int, ino uint64, change func(), caches ...*Cache) *Ruleset
}

// recordedTests are the kernel tests that record, by name; each has testdata/recorded/<name>.json.
var recordedTests = map[string]recordedTest{
	"TestAgainstKernel":     {steps: []stepCheck{checkAgainstKernel}},
	"TestUnknownExpression": {steps: []stepCheck{checkUnknownExpression}},
	"TestNoFirewall":        {steps: []stepCheck{checkNoTable, checkNoInputChain}},
	"TestPriorityOrder":     {steps: []stepCheck{checkPriorityOrder}},
	"TestIptablesNft":       {steps: []stepCheck{checkIptablesNft, checkMultiport}},
	"TestLegacyIptables":    {steps: []stepCheck{checkLegacyEmpty, checkLegacyIPv6Rule, checkLegacyPolicyDrop}},
	"TestNotRoot":           {steps: []stepCheck{checkNotRoot}},
	"TestCacheGeneration":   {cache: cacheStory},
	"TestMoreAgainstKernel": {steps: []stepCheck{checkMoreAgainstKernel}},
	"TestRender":            {steps: []stepCheck{checkRender}},
	"TestIngress":           {steps: []stepCheck{checkIngress}},
	"TestBadUserdata":       {steps: []stepCheck{checkBadUserdata}},
	"TestUfw":               {steps: []stepCheck{checkUfw}},
	"TestXtMatches":         {steps: []stepCheck{checkXtMatches}},
	"TestFirewalld":         {steps: []stepCheck{checkFirewalld}},
	"TestDocker":            {steps: []stepCheck{checkDocker}},
	"TestKubeProxyIptables": {steps: []stepCheck{checkKubeNodePorts}},
	"TestKubeProxyNft":      {steps: []stepCheck{checkKubeProxyNft, checkKubeProxyNftWide, checkKubeNodePortIPs}},
	"TestRealDocker":        {steps: []stepCheck{checkRealDocker}},
	"TestRealPodman":        {steps: []stepCheck{checkRealPodman}},
	"TestRealUfw":           {steps: []stepCheck{checkRealUfw, checkRealUfwLater}},
	"TestRealFirewalld":     {steps: []stepCheck{checkRealFirewalld, checkRealFirewalldLater}},
	"TestNoForward":         {steps: []stepCheck{checkNoForward}},
	"TestNoForwardIPv6":     {steps: []stepCheck{checkNoForward6(ForwardOff, "filtered"), checkNoForward6(ForwardOn, "open")}},
	"TestContainerBehindHost": {steps: []stepCheck{
		checkBehindHost(map[probe]string{{"tcp", cliAddr4, 80}: "open", {"tcp", cli2Addr4, 80}: "closed", {"tcp", cliAddr4, 81}: "filtered",
			{"tcp", cliAddr4, 8080}: "open", {"tcp", cli2Addr4, 8080}: "closed"}),
		checkBehindContainer,
		checkBehindHost(map[probe]string{{"tcp", cliAddr4, 80}: "filtered", {"tcp", cli2Addr4, 80}: "filtered", {"tcp", cliAddr4, 81}: "filtered",
			{"tcp", cliAddr4, 8080}: "open", {"tcp", cli2Addr4, 8080}: "filtered"}),
		checkBehindContainer,
	}},
}

// TestReplay reads every recorded ruleset again from its recorded netlink replies (no kernel, no
// root) and runs its kernel test's checks: the verdicts must say what the kernel did to the probes
// when it was recorded.
func TestReplay(t *testing.T) {
	var names []string
	for name := range recordedTests {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		t.Run(strings.TrimPrefix(name, "Test"), func(t *testing.T) {
			rec, err := loadRecording(recordingPath(name))
			if err != nil {
				t.Fatalf("%v (record it as root: go test ./sockets/firewall/ -run '^%s$' -record)", err, name)
			}
			if rec.Test != name {
				t.Fatalf("%s holds the recording of %s", recordingPath(name), rec.Test)
			}
			rt := recordedTests[name]
			if rt.cache != nil {
				replayCache(t, rec, rt)
				return
			}
			if len(rec.Steps) != len(rt.steps) {
				t.Fatalf("%d reads recorded, %d checks", len(rec.Steps), len(rt.steps))
			}
			for i, st := range rec.Steps {
				seen, err := parseProbes(st.Probes)
				if err != nil {
					t.Fatal(err)
				}
				rt.steps[i](t, replayRead(t, st), seen)
			}
		})
	}
	files, err := filepath.Glob(filepath.Join(recordedDir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if _, ok := recordedTests[strings.TrimSuffix(filepath.Base(f), ".json")]; !ok {
			t.Errorf("%s: no test replays it (recordedTests)", f)
		}
	}
}

// replayRead reads a ruleset from a recorded step: it must read what the kernel test read, and
// ask everything the kernel was asked.
func replayRead(t *testing.T, st step) *Ruleset {
	t.Helper()
	conv := newConversation(st.Netlink)
	rs, err := readNS(&replayNS{conv: conv, legacy4: st.Legacy4, legacy6: st.Legacy6})
	if err != nil {
		t.Fatal(err)
	}
	if got := ruleLines(rs); !equalLines(got, st.Rules) {
		t.Errorf("the replay read another ruleset:\n%s", lineDiff(st.Rules, got))
	}
	if u := conv.unused(); len(u) > 0 {
		t.Errorf("recorded requests the replay did not make: %v", u)
	}
	return rs
}

func replayCache(t *testing.T, rec *recording, rt recordedTest) {
	if len(rec.Steps) != 1 {
		t.Fatalf("a cache's story is one step, %d recorded", len(rec.Steps))
	}
	st := rec.Steps[0]
	ino, err := nsInodeOf(0)
	if err != nil {
		t.Fatal(err)
	}
	conv := newConversation(st.Netlink)
	c := &Cache{open: func(int) (netns, error) {
		return &replayNS{conv: conv, legacy4: st.Legacy4, legacy6: st.Legacy6, ino: ino}, nil
	}}
	defer c.Close()
	last := rt.cache(t, 0, ino, func() {}, c)
	if got := ruleLines(last); !equalLines(got, st.Rules) {
		t.Errorf("the replay read another ruleset:\n%s", lineDiff(st.Rules, got))
	}
	if u := conv.unused(); len(u) > 0 {
		t.Errorf("recorded requests the replay did not make: %v", u)
	}
}

// TestReplayFails: a replay is evidence only if it can disagree with the kernel. Without the
// recorded rules the lab's ruleset is its policy alone, and the verdicts are not the kernel's.
func TestReplayFails(t *testing.T) {
	rec, err := loadRecording(recordingPath("TestAgainstKernel"))
	if err != nil {
		t.Fatal(err)
	}
	st := rec.Steps[0]
	seen, err := parseProbes(st.Probes)
	if err != nil {
		t.Fatal(err)
	}
	var cut []exchange
	for _, ex := range st.Netlink {
		if ex.Request.What == "getrule" {
			ex.Replies = nil
		}
		cut = append(cut, ex)
	}
	rs, err := readNS(&replayNS{conv: newConversation(cut)})
	if err != nil {
		t.Fatal(err)
	}
	p := probe{"tcp", cliAddr4, 8080}
	if seen[p] != "open" {
		t.Fatalf("the recording says the kernel %s port 8080, the lab expects open", seen[p])
	}
	if got := rs.Evaluate("tcp", wildcard, 8080).From(netip.MustParseAddr(p.src)); got != Filtered {
		t.Errorf("without rules, port 8080: %s, want filtered (the policy)", got)
	}

	// A request the recording does not hold is an error, not an empty answer.
	_, err = readNS(&replayNS{conv: newConversation(st.Netlink[:1])})
	if err == nil || !strings.Contains(err.Error(), "gettable request not in the recording") {
		t.Errorf("a missing exchange: %v", err)
	}
}

// TestReplayRefused: a refusal is replayed as the kernel sends it, and the ruleset is unreadable
// (not an error), as without CAP_NET_ADMIN.
func TestReplayRefused(t *testing.T) {
	getgen := netlink.Message{
		Header: netlink.Header{Type: nftMsgType(unix.NFT_MSG_GETGEN), Flags: netlink.Request},
		Data:   nfgen(unix.AF_UNSPEC),
	}
	for _, errno := range []int{int(unix.EPERM), int(unix.EACCES)} {
		rs, err := readNS(&replayNS{conv: newConversation([]exchange{{Request: toWire(getgen), Errno: errno}})})
		if err != nil {
			t.Fatalf("errno %d: %v", errno, err)
		}
		if v := rs.Evaluate("tcp", wildcard, 22); v.Kind != Unknown || v.Reason != ReasonNotRoot {
			t.Errorf("errno %d: %+v", errno, v)
		}
	}
	_, err := readNS(&replayNS{conv: newConversation([]exchange{{Request: toWire(getgen), Errno: int(unix.ENOBUFS)}})})
	if err == nil {
		t.Error("ENOBUFS: no error")
	}
}
