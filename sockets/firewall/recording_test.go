//go:build linux

package firewall

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/mdlayher/netlink"
	"github.com/mdlayher/netlink/nltest"
	"golang.org/x/sys/unix"
)

// Recordings: each kernel test writes down the netlink conversation it had while reading the
// ruleset (every request, every reply), what legacy iptables did, and what the kernel did to the
// probes, in testdata/recorded/<test>.json. TestReplay reads the ruleset again from those replies
// (nltest, no kernel, no root) and runs the same checks, so the evaluator is tested by any user.
// The kernel tests keep the recordings honest: run as root, they record afresh and fail when the
// fresh recording says something the committed one does not (-record writes it instead).

var record = flag.Bool("record", false, "kernel tests (root) write their netlink conversations and probe outcomes to testdata/recorded")

const recordedDir = "testdata/recorded"

func recordingPath(test string) string { return filepath.Join(recordedDir, test+".json") }

// recording is one kernel test's file.
type recording struct {
	Test     string `json:"test"`
	Recorded string `json:"recorded"` // the command that wrote it
	Kernel   string `json:"kernel"`   // where: informative, not compared
	Nft      string `json:"nft"`
	Steps    []step `json:"steps"`
}

// step is one read of a ruleset (for the cache test: the cache's whole story).
type step struct {
	Legacy4 bool       `json:"legacy_ipv4"` // what legacy iptables does (not netlink: read by setsockopt)
	Legacy6 bool       `json:"legacy_ipv6"`
	Probes  []string   `json:"probes,omitempty"` // what the kernel did: "tcp 10.200.0.2 8080 open"
	Rules   []string   `json:"rules"`            // the ruleset as read, for the reader and the comparison
	Netlink []exchange `json:"netlink"`
}

type exchange struct {
	Request wireMsg   `json:"request"`
	Replies []wireMsg `json:"replies,omitempty"` // without the dump's closing NLMSG_DONE
	Errno   int       `json:"errno,omitempty"`   // the kernel refused the request
}

// wireMsg is a netlink message without the length, sequence and port id, which the replay sets.
// In the file it is a list of lines: "getrule type=0x0a07 flags=0x0301", then the data in hex, 32
// bytes a line, so a diff shows what changed.
type wireMsg struct {
	What  string // the nftables message type, for the reader
	Type  uint16
	Flags uint16
	Data  []string
}

func (w wireMsg) MarshalJSON() ([]byte, error) {
	return json.Marshal(append([]string{fmt.Sprintf("%s type=%#04x flags=%#04x", w.What, w.Type, w.Flags)}, w.Data...))
}

func (w *wireMsg) UnmarshalJSON(b []byte) error {
	var lines []string
	if err := json.Unmarshal(b, &lines); err != nil {
		return err
	}
	if len(lines) == 0 {
		return errors.New("a recorded message without its header line")
	}
	if _, err := fmt.Sscanf(lines[0], "%s type=%v flags=%v", &w.What, &w.Type, &w.Flags); err != nil {
		return fmt.Errorf("recorded message %q: %w", lines[0], err)
	}
	w.Data = lines[1:]
	return nil
}

var nftMsgNames = map[int]string{
	unix.NFT_MSG_GETTABLE: "gettable", unix.NFT_MSG_NEWTABLE: "newtable",
	unix.NFT_MSG_GETCHAIN: "getchain", unix.NFT_MSG_NEWCHAIN: "newchain",
	unix.NFT_MSG_GETRULE: "getrule", unix.NFT_MSG_NEWRULE: "newrule",
	unix.NFT_MSG_GETSET: "getset", unix.NFT_MSG_NEWSET: "newset",
	unix.NFT_MSG_GETSETELEM: "getsetelem", unix.NFT_MSG_NEWSETELEM: "newsetelem",
	unix.NFT_MSG_GETGEN: "getgen", unix.NFT_MSG_NEWGEN: "newgen",
}

func toWire(m netlink.Message) wireMsg {
	w := wireMsg{Type: uint16(m.Header.Type), Flags: uint16(m.Header.Flags), Data: []string{}}
	if m.Header.Type>>8 == unix.NFNL_SUBSYS_NFTABLES {
		w.What = nftMsgNames[int(m.Header.Type&0xff)]
	}
	if w.What == "" {
		w.What = m.Header.Type.String()
	}
	for b := m.Data; len(b) > 0; {
		n := min(32, len(b))
		w.Data = append(w.Data, hex.EncodeToString(b[:n]))
		b = b[n:]
	}
	return w
}

func (w wireMsg) bytes() ([]byte, error) {
	b, err := hex.DecodeString(strings.Join(w.Data, ""))
	if err != nil {
		return nil, fmt.Errorf("recorded %s: %w", w.What, err)
	}
	return b, nil
}

func (w wireMsg) same(o wireMsg) bool {
	return w.Type == o.Type && w.Flags == o.Flags && strings.Join(w.Data, "") == strings.Join(o.Data, "")
}

// conversation is a recorded netlink conversation, replayed: a request is answered with the
// replies of the first unused exchange that asked the same. Not by position alone: a read asks in a
// fixed order, but a cache's story is several reads, and a matching request is what proves the
// replay asks what the kernel was asked.
type conversation struct {
	mu        sync.Mutex
	exchanges []exchange
	used      []bool
}

func newConversation(ex []exchange) *conversation {
	return &conversation{exchanges: ex, used: make([]bool, len(ex))}
}

func (c *conversation) answer(reqs []netlink.Message) ([]netlink.Message, error) {
	if len(reqs) != 1 {
		return nil, fmt.Errorf("replay: %d messages sent at once; the reader sends one", len(reqs))
	}
	req := toWire(reqs[0])
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, ex := range c.exchanges {
		if !c.used[i] && ex.Request.same(req) {
			c.used[i] = true
			return answer(reqs[0], ex)
		}
	}
	return nil, fmt.Errorf("replay: %s request not in the recording (flags %#x, data %s)", req.What, req.Flags, strings.Join(req.Data, ""))
}

// unused says which recorded requests the replay never made.
func (c *conversation) unused() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for i, u := range c.used {
		if !u {
			out = append(out, fmt.Sprintf("#%d %s", i, c.exchanges[i].Request.What))
		}
	}
	return out
}

// answer is an exchange's replies as the kernel sends them to this request: its sequence number
// and port id, a dump closed by NLMSG_DONE, a refusal as an NLMSG_ERROR.
func answer(req netlink.Message, ex exchange) ([]netlink.Message, error) {
	if ex.Errno != 0 {
		return nltest.Error(ex.Errno, []netlink.Message{req})
	}
	hdr := func(t netlink.HeaderType, f netlink.HeaderFlags) netlink.Header {
		return netlink.Header{Type: t, Flags: f, Sequence: req.Header.Sequence, PID: req.Header.PID}
	}
	var out []netlink.Message
	for _, w := range ex.Replies {
		b, err := w.bytes()
		if err != nil {
			return nil, err
		}
		out = append(out, netlink.Message{Header: hdr(netlink.HeaderType(w.Type), netlink.HeaderFlags(w.Flags)), Data: b})
	}
	if req.Header.Flags&netlink.Dump != 0 {
		out = append(out, netlink.Message{Header: hdr(netlink.Done, netlink.Multi), Data: make([]byte, 4)})
	}
	return out, nil
}

// replayNS is a namespace that exists only in a recording.
type replayNS struct {
	conv             *conversation
	legacy4, legacy6 bool
	ino              uint64
}

func (r *replayNS) dial() (*netlink.Conn, error)     { return nltest.Dial(r.conv.answer), nil }
func (r *replayNS) legacy() (v4, v6 bool, err error) { return r.legacy4, r.legacy6, nil }
func (r *replayNS) inode() uint64                    { return r.ino }
func (r *replayNS) close()                           {}

// recordingNS is a kernel namespace whose netlink sockets are recorded: each request goes through
// nltest to a real socket in the namespace, and the replies come back through the same answer a
// replay gives, so recording also checks that replaying the replies reads as the kernel does.
type recordingNS struct {
	*nsHandle
	r *recorder
}

func (n *recordingNS) dial() (*netlink.Conn, error) {
	real, err := n.nsHandle.dial()
	if err != nil {
		return nil, err
	}
	n.r.mu.Lock()
	n.r.conns = append(n.r.conns, real) // nltest's Close does not reach it: closed with the recorder
	n.r.mu.Unlock()
	return nltest.Dial(func(reqs []netlink.Message) ([]netlink.Message, error) {
		if len(reqs) != 1 {
			return nil, fmt.Errorf("record: %d messages sent at once", len(reqs))
		}
		req := reqs[0]
		ex := exchange{Request: toWire(req)}
		replies, err := real.Execute(netlink.Message{Header: netlink.Header{Type: req.Header.Type, Flags: req.Header.Flags}, Data: req.Data})
		var errno syscall.Errno
		switch {
		case errors.As(err, &errno):
			ex.Errno = int(errno)
		case err != nil:
			return nil, err
		}
		for _, m := range replies {
			ex.Replies = append(ex.Replies, toWire(m))
		}
		n.r.add(ex)
		return answer(req, ex)
	}), nil
}

func (n *recordingNS) legacy() (v4, v6 bool, err error) {
	v4, v6, err = n.nsHandle.legacy()
	if err == nil {
		n.r.legacy(v4, v6)
	}
	return v4, v6, err
}

// recorder records a kernel test's reads, step by step, and at the test's end writes the
// recording (-record) or compares it with the committed one.
type recorder struct {
	t    *testing.T
	name string

	mu       sync.Mutex
	steps    []step
	cur      step
	legacies int // how many times legacy was looked at in the current step
	legErr   error
	conns    []*netlink.Conn
}

func newRecorder(t *testing.T) *recorder {
	r := &recorder{t: t, name: t.Name()}
	if _, ok := recordedTests[r.name]; !ok {
		t.Fatalf("%s records its reads but has no entry in recordedTests (replay_test.go)", r.name)
	}
	t.Cleanup(r.finish)
	return r
}

func (r *recorder) add(ex exchange) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cur.Netlink = append(r.cur.Netlink, ex)
}

func (r *recorder) legacy(v4, v6 bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.legacies > 0 && (v4 != r.cur.Legacy4 || v6 != r.cur.Legacy6) {
		r.legErr = errors.New("legacy iptables changed within one step: a replay has one answer per step")
	}
	r.cur.Legacy4, r.cur.Legacy6 = v4, v6
	r.legacies++
}

// open is a Cache's way into a namespace, recorded.
func (r *recorder) open(pid int) (netns, error) {
	h, err := openNS(pid)
	if err != nil {
		return nil, err
	}
	return &recordingNS{nsHandle: h, r: r}, nil
}

// capture reads the ruleset of the namespace of pid twice: as portwatch does (Read) and through a
// recorded conversation; both must read the same. The step is kept with the probes' outcomes.
// It calls nothing on the test, so it may run on another goroutine.
func (r *recorder) capture(pid int, seen map[probe]string) (*Ruleset, error) {
	rs, err := Read(pid)
	if err != nil {
		return nil, err
	}
	ns, err := r.open(pid)
	if err != nil {
		return nil, err
	}
	defer ns.close()
	rec, err := readNS(ns)
	if err != nil {
		return nil, fmt.Errorf("the recorded read: %w", err)
	}
	if got, want := ruleLines(rec), ruleLines(rs); !equalLines(got, want) || rec.gen != rs.gen ||
		rec.legacy4 != rs.legacy4 || rec.legacy6 != rs.legacy6 {
		return nil, fmt.Errorf("the recorded read differs from Read:\n%s\nRead:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	return rs, r.endStep(rs, seen)
}

// endStep closes the current step on the ruleset it read.
func (r *recorder) endStep(rs *Ruleset, seen map[probe]string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.legErr != nil {
		return r.legErr
	}
	r.cur.Rules = ruleLines(rs)
	r.cur.Probes = probeLines(seen)
	r.steps = append(r.steps, r.cur)
	r.cur, r.legacies = step{}, 0
	return nil
}

// check runs the test's check of the last step on rs.
func (r *recorder) check(rs *Ruleset, seen map[probe]string) {
	r.t.Helper()
	checks := recordedTests[r.name].steps
	i := len(r.steps) - 1
	if i < 0 || i >= len(checks) {
		r.t.Fatalf("%s: read %d has no check in recordedTests", r.name, i+1)
	}
	checks[i](r.t, rs, seen)
}

// read captures a step and checks it.
func (r *recorder) read(pid int, seen map[probe]string) *Ruleset {
	r.t.Helper()
	rs, err := r.capture(pid, seen)
	if err != nil {
		r.t.Fatal(err)
	}
	r.check(rs, seen)
	return rs
}

func (r *recorder) finish() {
	r.mu.Lock()
	for _, c := range r.conns {
		c.Close()
	}
	r.conns = nil
	r.mu.Unlock()
	t := r.t
	if t.Failed() || t.Skipped() || len(r.steps) == 0 {
		return // a kernel test that failed proves nothing: its recording is not written
	}
	fresh := &recording{
		Test:     r.name,
		Recorded: fmt.Sprintf("go test ./sockets/firewall/ -run '^%s$' -record (as root)", r.name),
		Kernel:   kernelRelease(),
		Nft:      nftVersion(),
		Steps:    r.steps,
	}
	path := recordingPath(r.name)
	if *record {
		if err := writeRecording(path, fresh); err != nil {
			t.Error(err)
			return
		}
		t.Logf("recorded %s", path)
		return
	}
	committed, err := loadRecording(path)
	if err != nil {
		t.Errorf("%v: record it with %s", err, fresh.Recorded)
		return
	}
	if diff := compareRecordings(committed, fresh); diff != "" {
		t.Errorf("%s does not say what the kernel says now (record it again with %s if the change is right):\n%s", path, fresh.Recorded, diff)
	}
}

// compareRecordings says where a fresh recording disagrees with the committed one: in what the
// kernel did to the probes, in the ruleset read, in what was asked. The replies' bytes are not
// compared: they differ where the meaning does not (a counter's packets, the pid of the process
// that asked for the generation); the ruleset read from them is compared instead.
func compareRecordings(committed, fresh *recording) string {
	var out []string
	if len(committed.Steps) != len(fresh.Steps) {
		return fmt.Sprintf("%d steps recorded, %d now", len(committed.Steps), len(fresh.Steps))
	}
	for i := range fresh.Steps {
		c, f := committed.Steps[i], fresh.Steps[i]
		if c.Legacy4 != f.Legacy4 || c.Legacy6 != f.Legacy6 {
			out = append(out, fmt.Sprintf("step %d: legacy iptables %v/%v recorded, %v/%v now", i+1, c.Legacy4, c.Legacy6, f.Legacy4, f.Legacy6))
		}
		if d := lineDiff(c.Probes, f.Probes); d != "" {
			out = append(out, fmt.Sprintf("step %d: the kernel's answers to the probes:\n%s", i+1, d))
		}
		if d := lineDiff(withoutHandles(c.Rules), withoutHandles(f.Rules)); d != "" {
			out = append(out, fmt.Sprintf("step %d: the ruleset:\n%s", i+1, d))
		}
		var cr, fr []string
		for _, ex := range c.Netlink {
			cr = append(cr, requestLine(ex))
		}
		for _, ex := range f.Netlink {
			fr = append(fr, requestLine(ex))
		}
		if d := lineDiff(cr, fr); d != "" {
			out = append(out, fmt.Sprintf("step %d: the requests:\n%s", i+1, d))
		}
	}
	return strings.Join(out, "\n")
}

var ruleHandle = regexp.MustCompile(` # handle \d+$`)

// containerID is a container's id in a runtime's rule comments (netavark's "podman id: ..."):
// new with every run.
var containerID = regexp.MustCompile(`\b[0-9a-f]{64}\b`)

// withoutHandles: the kernel numbers rules in the order nft creates things, which another nft
// version may change without changing a verdict; a container's id changes with every run.
func withoutHandles(rules []string) []string {
	out := make([]string, len(rules))
	for i, r := range rules {
		out[i] = containerID.ReplaceAllString(ruleHandle.ReplaceAllString(r, ""), "ID")
	}
	return out
}

func requestLine(ex exchange) string {
	return fmt.Sprintf("%s %#x %s errno %d", ex.Request.What, ex.Request.Flags, strings.Join(ex.Request.Data, ""), ex.Errno)
}

func lineDiff(was, now []string) string {
	if equalLines(was, now) {
		return ""
	}
	in := map[string]int{}
	for _, l := range now {
		in[l]++
	}
	var out []string
	for _, l := range was {
		if in[l] > 0 {
			in[l]--
			continue
		}
		out = append(out, "- "+l)
	}
	old := map[string]int{}
	for _, l := range was {
		old[l]++
	}
	for _, l := range now {
		if old[l] > 0 {
			old[l]--
			continue
		}
		out = append(out, "+ "+l)
	}
	if len(out) == 0 {
		out = append(out, "  (the same lines in another order)")
	}
	return strings.Join(out, "\n")
}

func equalLines(a, b []string) bool { return slices.Equal(a, b) }

func writeRecording(path string, rec *recording) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "\t")
	if err := enc.Encode(rec); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

func loadRecording(path string) (*recording, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var rec recording
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rec); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &rec, nil
}

// ruleLines is a ruleset as read, one line a chain, a rule or a set, in a fixed order.
func ruleLines(rs *Ruleset) []string {
	out := []string{}
	if rs.unreadable != "" {
		out = append(out, "unreadable: "+rs.unreadable)
	}
	for _, t := range rs.tables {
		out = append(out, fmt.Sprintf("table %s %s flags %#x", familyName(t.family), t.name, t.flags))
	}
	var keys []setKey
	for k := range rs.chains {
		keys = append(keys, k)
	}
	sortKeys(keys)
	for _, k := range keys {
		c := rs.chains[k]
		head := c.where()
		if c.base {
			head += fmt.Sprintf(": hook %d priority %d policy %d devices %v", c.hook, c.prio, c.policy, c.devs)
		}
		out = append(out, head)
		for _, r := range c.rules {
			out = append(out, r.String())
		}
	}
	keys = keys[:0]
	for k := range rs.sets {
		keys = append(keys, k)
	}
	sortKeys(keys)
	for _, k := range keys {
		s := rs.sets[k]
		out = append(out, fmt.Sprintf("set %s %s %s: flags %#x key %d/%d data %d/%d fields %v, %d elements",
			familyName(k.family), k.table, k.name, s.flags, s.keyType, s.keyLen, s.dataType, s.dataLen, s.fields, len(s.elems)))
	}
	return out
}

func sortKeys(keys []setKey) {
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if a.family != b.family {
			return a.family < b.family
		}
		if a.table != b.table {
			return a.table < b.table
		}
		return a.name < b.name
	})
}

// probeLines and parseProbes: what the kernel did, as "tcp 10.200.0.2 8080 open", sorted.
func probeLines(seen map[probe]string) []string {
	var out []string
	for p, res := range seen {
		out = append(out, fmt.Sprintf("%s %s %d %s", p.proto, p.src, p.port, res))
	}
	sort.Strings(out)
	return out
}

func parseProbes(lines []string) (map[probe]string, error) {
	if len(lines) == 0 {
		return nil, nil
	}
	seen := map[probe]string{}
	for _, l := range lines {
		f := strings.Fields(l)
		if len(f) != 4 {
			return nil, fmt.Errorf("probe %q: want proto, source, port, outcome", l)
		}
		port, err := strconv.ParseUint(f[2], 10, 16)
		if err != nil {
			return nil, fmt.Errorf("probe %q: %w", l, err)
		}
		seen[probe{f[0], f[1], uint16(port)}] = f[3]
	}
	return seen, nil
}

func kernelRelease() string {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return ""
	}
	return "Linux " + unix.ByteSliceToString(u.Release[:])
}

func nftVersion() string {
	out, err := exec.Command("nft", "--version").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}
