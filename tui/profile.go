package tui

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/portwatch/portwatch/sockets/assess"
	"github.com/portwatch/portwatch/sockets/baseline"
	"github.com/portwatch/portwatch/tui/rowset"
)

// profileView is the server profile (R): the machine's roles as its
// listeners show them, the evidence for each, the conclusion an analyst
// draws and what stands out. Drawn again each poll: a firewall rule can
// change what is reachable without a listener changing.
type profileView struct{}

func (profileView) binding(k *keyMap) *key.Binding { return &k.Profile }
func (profileView) applies(*Model) bool            { return true }
func (profileView) follows() change                { return everyPoll }

func (profileView) text(m *Model, width int) string {
	var b strings.Builder
	b.WriteString(m.theme.PaneTitle.Render("Server profiling") + m.theme.Muted.Render("  R or esc: back · ↑/↓ pgup/pgdn: scroll") + "\n")
	for _, l := range profileLines(*m.theme, m.assessment, m.store, width) {
		b.WriteString(l + "\n")
	}
	return b.String()
}

// profileLines explains the assessment's profile the way the CyberOps note
// teaches it: from the listeners on 80, 443 and 22 an analyst concludes "a
// web server, with secure communication, that allows remote management".
// The same lines are R and the "Server profiling" section of L.
func profileLines(th Theme, a *assess.Assessment, store *rowset.Store, width int) []string {
	w := max(width, 20)
	var out []string
	para := func(s string) { out = append(out, hanging("  ", "  ", s, w)...) }
	head := func(s string) { out = append(out, "", th.Label.Render(s)) }
	para("An analyst profiles a server from its listening ports: each service says what the machine is for. From listeners on 80, 443 and 22 an analyst concludes \"a web server, with secure communication, that allows remote management\". portwatch draws the same conclusion from the listeners, their programs and their exposure; what contradicts the profile is what stands out.")
	if a == nil {
		para("Reading sockets…")
		return out
	}
	p := a.Profile
	head("Conclusion")
	para(conclusion(p, reachablePorts(store)))
	head("Roles")
	if len(p.Roles) == 0 {
		para("None: no listener portwatch can name.")
	}
	for _, r := range p.Roles {
		name, where := r.Name, "reachable from outside"
		switch {
		case !r.Reachable: // its detail says "local only"
			where = "this machine only (loopback, or kept out by the firewall)"
		case r.Detail != "":
			name += " (" + r.Detail + ")"
		}
		out = append(out, hanging("  ", "    ", th.Label.Render(name)+" · "+where, w)...)
		for _, e := range r.Evidence {
			out = append(out, hanging("    ", "      ", e, w)...)
		}
	}
	head("What stands out")
	if len(p.Standouts) == 0 {
		para("Nothing: the roles agree with each other.")
	}
	for _, s := range p.Standouts {
		badge := th.Risk(s.Risk).Render(fmt.Sprintf("%-6s", s.Risk))
		out = append(out, hanging("  "+badge+" ", strings.Repeat(" ", 9), s.Text, w)...)
	}
	return out
}

// conclusion is the profile as one sentence an analyst would write.
func conclusion(p assess.Profile, ports []uint16) string {
	var serves, allows, local []string
	for _, r := range p.Roles {
		phrase := roleNoun(r.Name)
		if r.Detail != "" && r.Reachable {
			phrase += " (" + r.Detail + ")"
		}
		switch {
		case !r.Reachable:
			local = append(local, withArticle(roleNoun(r.Name)))
		case r.Name == "remote administration" || r.Name == "remote desktop":
			allows = append(allows, phrase)
		default:
			serves = append(serves, withArticle(phrase))
		}
	}
	var s string
	switch {
	case len(serves) == 0 && len(allows) == 0:
		s = "Nothing this machine serves can be reached from outside, as far as portwatch can tell."
	default:
		what := andList(serves)
		if what == "" {
			what = "a machine"
		}
		if len(allows) > 0 {
			what += ", that allows " + andList(allows)
		}
		s = "From listeners on " + portList(ports) + " an analyst concludes: " + what + "."
	}
	if len(local) > 0 {
		s += " For itself only: " + andList(local) + "."
	}
	return s
}

// roleNoun is a role as a noun: "monitoring" is a service.
func roleNoun(name string) string {
	switch name {
	case "monitoring", "directory and authentication":
		return name + " service"
	}
	return name
}

func withArticle(s string) string {
	if s != "" && strings.ContainsRune("aeiou", rune(s[0])) {
		return "an " + s
	}
	return "a " + s
}

// andList is "a, b and c".
func andList(items []string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}

// maxConclusionPorts bounds the ports a conclusion names.
const maxConclusionPorts = 10

// portList is "22, 80 and 443", with a count past maxConclusionPorts.
func portList(ports []uint16) string {
	var ps []string
	for i, p := range ports {
		if i == maxConclusionPorts {
			ps = append(ps, fmt.Sprintf("%d more", len(ports)-i))
			break
		}
		ps = append(ps, strconv.Itoa(int(p)))
	}
	if len(ps) == 0 {
		return "no port"
	}
	return andList(ps)
}

// reachablePorts are the ports of the listeners a role rests on that can
// be reached from outside, lowest first: what the conclusion is drawn from.
func reachablePorts(store *rowset.Store) []uint16 {
	var ports []uint16
	for _, r := range store.Rows(rowset.Query{Tab: rowset.Listening}, nil) {
		if r.Removed() || r.Baseline.Status == baseline.Missing || !r.Reachable() || assess.RoleOf(r.Service.Name) == "" {
			continue
		}
		if !slices.Contains(ports, r.Socket.LPort) {
			ports = append(ports, r.Socket.LPort)
		}
	}
	slices.Sort(ports)
	return ports
}
