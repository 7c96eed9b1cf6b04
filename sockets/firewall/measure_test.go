//go:build linux

package firewall

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"testing"
)

// TestFrontendMeasure replays the frontends' recorded rule sets and counts, per rule set, the
// listeners (a wildcard listener per protocol, port and family probed) whose verdict says what
// the kernel did to every probe of it: right, unknown (the verdict says it cannot tell) or wrong.
// The bar: at least 95% right and none wrong. -v prints the table.
func TestFrontendMeasure(t *testing.T) {
	type setup struct {
		local  []netip.Addr
		routes []Route
		// the real frontends' labs: their listeners (on given addresses too), their config
		listeners []realListener
		config    func(*testing.T, *Ruleset)
		test      string // the recording, when not the set's name
		step      int    // its read
	}
	sets := map[string]setup{
		"TestUfw":                {},
		"TestXtMatches":          {local: []netip.Addr{netip.MustParseAddr(srvAddr4), netip.MustParseAddr(srvAddr6)}},
		"TestFirewalld":          {local: firewalldLocal},
		"TestDocker":             {local: dockerLocal, routes: dockerRoutes},
		"TestKubeProxyIptables":  {local: kubeLocal, routes: kubeRoutes},
		"TestKubeProxyNft":       {local: kubeLocal, routes: kubeRoutes},
		"TestKubeProxyNft, wide": {local: kubeLocal, routes: kubeRoutes, test: "TestKubeProxyNft", step: 1},
		"TestRealUfw":            {local: firewalldLocal, routes: realRoutes, listeners: realUfwListeners},
		"TestRealFirewalld, later": {local: firewalldLocal, routes: realRoutes, listeners: realFirewalldListeners,
			config: func(t *testing.T, rs *Ruleset) { rs.setFirewalld(recordedFirewalldConfig(t)) }, test: "TestRealFirewalld", step: 1},
		"TestRealDocker": {local: realDockerLocal, routes: realDockerRoutes, listeners: realDockerListeners},
		"TestRealPodman": {local: firewalldLocal, routes: realRoutes, listeners: realPodmanListeners},
		"TestRealUfw, later": {local: firewalldLocal, routes: realRoutes, listeners: realUfwListeners,
			test: "TestRealUfw", step: 1},
		"TestRealFirewalld": {local: firewalldLocal, routes: realRoutes, listeners: realFirewalldListeners,
			config: func(t *testing.T, rs *Ruleset) { rs.setFirewalld(recordedFirewalldConfig(t)) }},
	}
	var names []string
	for n := range sets {
		names = append(names, n)
	}
	sort.Strings(names)
	var lines []string
	total, totalRight := 0, 0
	for _, name := range names {
		test := name
		if sets[name].test != "" {
			test = sets[name].test
		}
		rec, err := loadRecording(recordingPath(test))
		if err != nil {
			t.Fatal(err)
		}
		st := rec.Steps[sets[name].step]
		seen, err := parseProbes(st.Probes)
		if err != nil {
			t.Fatal(err)
		}
		rs := replayRead(t, st)
		rs.SetLocal(sets[name].local)
		rs.SetRoutes(sets[name].routes)
		if ls := sets[name].listeners; ls != nil {
			if cfg := sets[name].config; cfg != nil {
				cfg(t, rs)
			}
			outcome, _ := realOutcome(rs, ls, seen)
			line, right := tallyOutcome(t, name, outcome, len(seen))
			total += len(outcome)
			totalRight += right
			lines = append(lines, line)
			continue
		}
		published := map[uint16]Published{}
		for _, p := range rs.Published() {
			published[p.HostPort] = p
		}
		type lkey struct {
			proto string
			port  uint16
			v6    bool
		}
		outcome := map[lkey]string{}
		for p, kernel := range seen {
			src := netip.MustParseAddr(p.src)
			k := lkey{p.proto, p.port, src.Is6()}
			own := netip.MustParseAddr(srvAddr4)
			if src.Is6() {
				own = netip.MustParseAddr(srvAddr6)
			}
			v := rs.Evaluate(p.proto, wildcard, p.port).At(own)
			if pub, ok := published[p.port]; ok && !src.Is6() {
				v = pub.Verdict // the kernel sends it on: the published entry is its verdict
			}
			got := v.From(src)
			res := "right"
			switch {
			case got == Unknown:
				res = "unknown"
			case string(got) != kernel:
				res = "wrong"
			}
			if outcome[k] == "" || outcome[k] == "right" || res == "wrong" {
				outcome[k] = res
			}
		}
		line, right := tallyOutcome(t, name, outcome, len(seen))
		total += len(outcome)
		totalRight += right
		lines = append(lines, line)
	}
	t.Logf("\n| rule set | listeners | probes | right | unknown | wrong |\n| --- | --- | --- | --- | --- | --- |\n%s\n| all | %d | | %d (%.0f%%) | | |",
		strings.Join(lines, "\n"), total, totalRight, 100*float64(totalRight)/float64(total))
	if float64(totalRight) < 0.95*float64(total) {
		t.Errorf("%d of %d right: under 95%%", totalRight, total)
	}
}

// tallyOutcome counts one rule set's listeners right, unknown and wrong (an error for any
// wrong), and returns its table row and how many were right.
func tallyOutcome[K comparable](t *testing.T, name string, outcome map[K]string, probes int) (string, int) {
	t.Helper()
	right, unknown, wrong := 0, 0, 0
	for _, r := range outcome {
		switch r {
		case "right":
			right++
		case "unknown":
			unknown++
		default:
			wrong++
		}
	}
	if wrong > 0 {
		t.Errorf("%s: %d listeners wrong", name, wrong)
	}
	return fmt.Sprintf("| %s | %d | %d | %d | %d | %d |", strings.TrimPrefix(name, "Test"), len(outcome), probes, right, unknown, wrong), right
}
