//go:build linux

package lab

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/nftables"

	"github.com/portwatch/portwatch/sockets/sockettest"
)

// testHold is the scene's pace in tests: each passing state lasts 0.7 s,
// still long enough for ss, polled every 40 ms, to see it.
const testHold = 700 * time.Millisecond

// checker runs a scene step by step and compares what each step says
// with what ss lists.
type checker struct {
	*testing.T
	sc         Scene
	s          *scene
	ctx        context.Context
	privileged bool
	ports      map[int]bool // every port the scene may use on this path
}

func newChecker(t *testing.T, opts Options) *checker {
	t.Helper()
	requireSS(t)
	sc, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { sc.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	s := sc.(*scene)
	c := &checker{T: t, sc: sc, s: s, ctx: ctx, privileged: s.privileged, ports: map[int]bool{}}
	for _, p := range blockPorts(s.base) {
		c.ports[p] = true
	}
	c.ports[PortBackdoor] = true
	for _, p := range []int{22, 80, 443} {
		if c.privileged {
			c.ports[p] = true
		}
	}
	for _, p := range c.step8Ports() {
		c.ports[p] = true
	}
	return c
}

// rows lists the sockets on the lab's ports and its scan address.
func (c *checker) rows() []ssRow {
	ports := make([]int, 0, len(c.ports))
	for p := range c.ports {
		ports = append(ports, p)
	}
	slices.Sort(ports)
	return ssTCP(c, ports, []string{ScanSource})
}

// waitFor polls c.rows until ok accepts them, or fails the test after d.
func (c *checker) waitFor(d time.Duration, what string, ok func([]ssRow) bool) []ssRow {
	c.Helper()
	return waitFor(c, d, what, c.rows, ok)
}

func (c *checker) step8Ports() []int {
	if c.privileged {
		return []int{21, 23, portTLSRoot}
	}
	return []int{c.s.port(PortFTPHigh), c.s.port(PortTelnetHigh), c.s.port(PortTLSHigh)}
}

// goStep runs Go(i) and checks the narration's frame.
func (c *checker) goStep(i int) Narration {
	c.Helper()
	start := time.Now()
	n, err := c.sc.Go(c.ctx, i)
	if err != nil {
		c.Fatalf("Go(%d): %v", i, err)
	}
	if d := time.Since(start); d > 5*time.Second {
		c.Errorf("Go(%d) took %s", i, d)
	}
	if n.Step != i+1 || n.Steps != 10 || !strings.HasPrefix(n.Title, strconv.Itoa(i+1)+". ") || len(n.Text) < 100 {
		c.Errorf("Go(%d): narration %+v", i, n)
	}
	// At 80x24 the monitor gives the narration a third of the screen: the
	// title, six lines of text at 78 columns, and the keys.
	if lines := wrappedLines(n.Text, 78); lines > 6 {
		c.Errorf("Go(%d): the narration takes %d lines at 80 columns, more than the 6 an 80x24 screen shows: %s", i, lines, n.Text)
	}
	if !slices.Contains([]string{"listening", "established", "all"}, n.Tab) || n.Filter == "" {
		c.Errorf("Go(%d): tab %q, filter %q", i, n.Tab, n.Filter)
	}
	return n
}

// pid is the pid of the helper named name that step (1-based) started.
func (c *checker) pid(step int, name string) int {
	c.Helper()
	st := c.s.states[step-1]
	if st == nil {
		c.Fatalf("step %d is not done", step)
	}
	for _, h := range st.helpers {
		if h.name == name {
			// The monitor names a socket's process by its comm: the helper's
			// role, not "exe".
			if comm, err := os.ReadFile("/proc/" + strconv.Itoa(h.pid) + "/comm"); err == nil && strings.TrimSpace(string(comm)) != name {
				c.Errorf("helper %d is named %q, want %q", h.pid, strings.TrimSpace(string(comm)), name)
			}
			return h.pid
		}
	}
	c.Fatalf("step %d started no %s", step, name)
	return 0
}

// onLab reports whether a row is one of the lab's sockets.
func (c *checker) onLab(r ssRow) bool {
	return c.ports[port(r.local)] || c.ports[port(r.remote)] || host(r.local) == ScanSource || host(r.remote) == ScanSource
}

// leftOnLab is what is left on the lab's ports after Close. Outside a
// namespace of its own the lab ties its listeners to lo: Metasploit's 4444
// on all interfaces is another program's (a test of another package running
// beside this one), not the lab's.
func (c *checker) leftOnLab(rows []ssRow) []ssRow {
	lab := where(rows, c.onLab)
	if c.s.netns {
		return lab
	}
	return where(lab, func(r ssRow) bool {
		return port(r.local) != PortBackdoor || strings.Contains(r.local, "%lo") || r.state != "LISTEN"
	})
}

// onPorts keeps the rows with an end on one of ports.
func onPorts(rows []ssRow, ports ...int) []ssRow {
	return where(rows, func(r ssRow) bool {
		return slices.Contains(ports, port(r.local)) || slices.Contains(ports, port(r.remote))
	})
}

func isState(state string) func(ssRow) bool { return func(r ssRow) bool { return r.state == state } }

// checkScene runs every step, then goes back, then closes, checking each
// against ss.
func checkScene(t *testing.T, opts Options) {
	c := newChecker(t, opts)
	server := loop(c.s.port(PortServer))

	// 1. LISTEN
	n := c.goStep(0)
	srvPID := c.pid(1, progWeb)
	c.waitFor(3*time.Second, "listening on "+server, func(rows []ssRow) bool {
		l := where(rows, func(r ssRow) bool { return r.state == "LISTEN" && r.local == server && r.ownedBy(srvPID) })
		return len(l) == 1 && strings.Contains(l[0].local, n.Filter)
	})

	// 2. ESTABLISHED on both ends, linked
	n = c.goStep(1)
	cl := c.s.clientLocal
	clPID := c.pid(2, "lab-client")
	if !strings.Contains(n.Text, strings.TrimPrefix(cl, "127.0.0.1:")) {
		c.Errorf("step 2's text does not name the client's port %s: %s", cl, n.Text)
	}
	c.waitFor(3*time.Second, "an ESTABLISHED pair "+cl+" <-> "+server, func(rows []ssRow) bool {
		a := where(rows, func(r ssRow) bool {
			return r.state == "ESTAB" && r.local == cl && r.remote == server && r.ownedBy(clPID)
		})
		b := where(rows, func(r ssRow) bool {
			return r.state == "ESTAB" && r.local == server && r.remote == cl && r.ownedBy(srvPID)
		})
		return len(a) == 1 && len(b) == 1
	})

	// 3. FIN_WAIT1, FIN_WAIT2, TIME_WAIT on the client; CLOSE_WAIT, LAST_ACK, gone on the server
	c.goStep(2)
	checkClosing(c, cl, server)

	// 4. CLOSE_WAIT piling up
	n = c.goStep(3)
	leakPID := c.pid(4, "leaky-server")
	closeWaits := func(min int) func([]ssRow) bool {
		return func(rows []ssRow) bool {
			cw := where(rows, func(r ssRow) bool {
				return r.state == "CLOSE-WAIT" && r.local == loop(c.s.port(PortLeaky)) && r.ownedBy(leakPID)
			})
			fw := where(rows, func(r ssRow) bool { return r.state == "FIN-WAIT-2" && r.remote == loop(c.s.port(PortLeaky)) })
			return len(cw) >= min && len(fw) >= min && strings.Contains(cw[0].local, n.Filter)
		}
	}
	c.waitFor(3*time.Second, "3 CLOSE_WAIT held by leaky-server", closeWaits(3))
	c.waitFor(3*testHold, "a 4th CLOSE_WAIT: the pile grows", closeWaits(4))

	// 5. filtered: SYN_SENT that stays; closed: refused at once
	c.goStep(4)
	checkFiltered(c)

	// 6. loopback against all interfaces
	c.goStep(5)
	c.waitFor(3*time.Second, "a loopback and an all-interfaces listener", func(rows []ssRow) bool {
		lo := where(rows, func(r ssRow) bool { return r.state == "LISTEN" && r.local == loop(c.s.port(PortLoopbackOnly)) })
		all := where(rows, func(r ssRow) bool {
			return r.state == "LISTEN" && port(r.local) == c.s.port(PortAllInterfaces) && host(r.local) == "0.0.0.0" &&
				strings.Contains(r.local, "%lo") != c.s.netns // tied to lo outside the lab's namespace
		})
		return len(lo) == 1 && len(all) == 1
	})

	// 7. the backdoor
	c.goStep(6)
	checkBackdoor(c)

	// 8. cleartext against TLS, each with a client logged in
	n = c.goStep(7)
	checkCleartext(c, n)
	checkBaseline(c)

	// 9. the scan
	n = c.goStep(8)
	checkScan(c, n)

	// 10. the profile
	n = c.goStep(9)
	checkProfile(c, n)

	checkBack(c)
	checkClose(c)
}

// checkClosing follows step 3's connection with ss every 40 ms until the
// client's end is in TIME_WAIT and the server's is gone.
func checkClosing(c *checker, cl, server string) {
	c.Helper()
	var clientSeq, serverSeq []string
	var closeWaitFrom, closeWaitTo time.Time
	var tw ssRow
	deadline := time.Now().Add(4*testHold + 5*time.Second)
	for {
		rows := c.rows()
		cs, ss := "-", "-"
		for _, r := range rows {
			switch {
			case r.local == cl && r.remote == server:
				cs = r.state
				if r.state == "TIME-WAIT" {
					tw = r
				}
			case r.local == server && r.remote == cl:
				ss = r.state
			}
		}
		if len(clientSeq) == 0 || clientSeq[len(clientSeq)-1] != cs {
			clientSeq = append(clientSeq, cs)
		}
		if len(serverSeq) == 0 || serverSeq[len(serverSeq)-1] != ss {
			serverSeq = append(serverSeq, ss)
		}
		if ss == "CLOSE-WAIT" {
			if closeWaitFrom.IsZero() {
				closeWaitFrom = time.Now()
			}
			closeWaitTo = time.Now()
		}
		if cs == "TIME-WAIT" && ss == "-" {
			break
		}
		if time.Now().After(deadline) {
			c.Fatalf("step 3 did not end in TIME_WAIT: client %v, server %v\n%s", clientSeq, serverSeq, dump(rows))
		}
		time.Sleep(40 * time.Millisecond)
	}
	if want := []string{"FIN-WAIT-1", "FIN-WAIT-2", "TIME-WAIT"}; !slices.Equal(clientSeq, want) {
		c.Errorf("the client's end went %v, want %v", clientSeq, want)
	}
	if want := []string{"ESTAB", "CLOSE-WAIT", "LAST-ACK", "-"}; !slices.Equal(serverSeq, want) {
		c.Errorf("the server's end went %v, want %v", serverSeq, want)
	}
	if d := closeWaitTo.Sub(closeWaitFrom); d < testHold*7/10 {
		c.Errorf("CLOSE_WAIT lasted %s, want about %s", d, testHold)
	}
	if tw.ino != 0 {
		c.Errorf("the TIME_WAIT has a socket inode, so an owner: %s", tw.line)
	}
}

func checkFiltered(c *checker) {
	c.Helper()
	if !errors.Is(c.s.refused, syscall.ECONNREFUSED) {
		c.Errorf("connect to the closed port %d: %v, want ECONNREFUSED", c.s.port(PortClosed), c.s.refused)
	}
	filtered := c.s.port(PortFiltered)
	if got := onPorts(c.rows(), c.s.port(PortClosed)); len(got) > 0 {
		c.Errorf("sockets on the closed port %d:\n%s", c.s.port(PortClosed), dump(got))
	}
	if !c.privileged {
		// No stand-in: nothing on the "filtered" port, no rule.
		if got := onPorts(c.rows(), filtered); len(got) > 0 {
			c.Errorf("the unprivileged path left sockets on %d:\n%s", filtered, dump(got))
		}
		if labTableExists(c) {
			c.Errorf("the unprivileged path installed a firewall rule")
		}
		return
	}
	srv := c.pid(5, progWeb)
	clPID := c.pid(5, "lab-client")
	listening := func(rows []ssRow) bool {
		return len(where(onPorts(rows, filtered), func(r ssRow) bool { return r.state == "LISTEN" && r.ownedBy(srv) })) == 1
	}
	synSent := func(rows []ssRow) []ssRow {
		return where(rows, func(r ssRow) bool {
			return r.state == "SYN-SENT" && r.remote == loop(filtered) && r.ownedBy(clPID)
		})
	}
	// The timeline: open, filtered (a knock waits in SYN_SENT), closed (the
	// knock is refused), open again; the listener stays all along.
	waitPhase := func(want int) {
		c.Helper()
		deadline := time.Now().Add(3*testHold + 3*time.Second)
		for c.s.fwPhase() != want {
			if time.Now().After(deadline) {
				c.Fatalf("the firewall step never reached phase %d (at %d)", want, c.s.fwPhase())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitPhase(fwFiltered)
	c.waitFor(3*time.Second, "SYN_SENT to the filtered port, its listener still there", func(rows []ssRow) bool {
		return len(synSent(rows)) >= 1 && listening(rows)
	})
	if got := ruleOf(c); !strings.Contains(got, "drop") {
		c.Errorf("filtered, the lab's rule is %q, want a drop", got)
	}
	waitPhase(fwClosed)
	if got := ruleOf(c); !strings.Contains(got, "reject") {
		c.Errorf("closed, the lab's rule is %q, want a reject", got)
	}
	c.waitFor(3*time.Second, "the knock refused by the reset", func(rows []ssRow) bool {
		return len(synSent(rows)) == 0 && listening(rows)
	})
	waitPhase(fwOpen)
	if labTableExists(c) {
		c.Errorf("open again, the lab's table is still there")
	}
}

// ruleOf is the lab's rule as `nft list table inet portwatch_lab` prints it.
func ruleOf(c *checker) string {
	c.Helper()
	out, err := exec.Command("nft", "list", "table", "inet", labTable).CombinedOutput()
	if err != nil {
		return "no table: " + string(out)
	}
	return string(out)
}

// labTableExists looks for the lab's nftables table in this namespace;
// false when the ruleset cannot be read (not root).
func labTableExists(t testing.TB) bool {
	t.Helper()
	if os.Geteuid() != 0 {
		return false
	}
	conn, err := nftables.New()
	if err != nil {
		t.Fatal(err)
	}
	tables, err := conn.ListTablesOfFamily(nftables.TableFamilyINet)
	if err != nil {
		t.Fatalf("listing nftables tables: %v", err)
	}
	for _, tb := range tables {
		if tb.Name == labTable {
			return true
		}
	}
	return false
}

func checkBackdoor(c *checker) {
	c.Helper()
	pid := c.pid(7, "kworker")
	c.waitFor(3*time.Second, "kworker listening on 4444", func(rows []ssRow) bool {
		return len(where(rows, func(r ssRow) bool {
			return r.state == "LISTEN" && port(r.local) == int(c.s.backdoor.Load()) && host(r.local) == "0.0.0.0" && r.ownedBy(pid)
		})) == 1
	})
	comm, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm")
	if strings.TrimSpace(string(comm)) != "kworker" {
		c.Errorf("the backdoor's name is %q, want kworker", comm)
	}
	exe, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/exe")
	if err != nil {
		c.Fatal(err)
	}
	if !strings.HasPrefix(exe, os.TempDir()) || !strings.HasSuffix(exe, "/kworker (deleted)") {
		c.Errorf("the backdoor's executable is %q, want a deleted kworker in %s", exe, os.TempDir())
	}
}

func checkCleartext(c *checker, n Narration) {
	c.Helper()
	ports := c.step8Ports()
	names := []string{progFTP, "lab-telnetd", "lab-httpsd"}
	client := c.pid(8, "lab-client")
	c.waitFor(3*time.Second, "three services with a client each", func(rows []ssRow) bool {
		for k, p := range ports {
			srv := c.pid(8, names[k])
			l := where(rows, func(r ssRow) bool { return r.state == "LISTEN" && port(r.local) == p && r.ownedBy(srv) })
			in := where(rows, func(r ssRow) bool { return r.state == "ESTAB" && port(r.local) == p && r.ownedBy(srv) })
			out := where(rows, func(r ssRow) bool { return r.state == "ESTAB" && r.remote == loop(p) && r.ownedBy(client) })
			if len(l) != 1 || len(in) != 1 || len(out) != 1 {
				return false
			}
		}
		return true
	})
	// The filter picks the step's sockets: by port, or by the helpers'
	// command lines where the ports share nothing.
	for _, name := range append(names, "lab-client") {
		pid := c.pid(8, name)
		cmdline, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
		byPort := false
		for _, p := range ports {
			byPort = byPort || strings.Contains(":"+strconv.Itoa(p), n.Filter)
		}
		if !byPort && !strings.Contains(string(cmdline), n.Filter) {
			c.Errorf("filter %q picks neither the ports %v nor %s's command line %q", n.Filter, ports, name, cmdline)
		}
	}
}

func checkScan(c *checker, n Narration) {
	c.Helper()
	first := c.s.port(ScanFirst)
	inRange := func(p int) bool { return p >= first && p < first+ScanPorts }
	scanner := c.pid(9, "lab-scanner")
	c.waitFor(3*time.Second, "the scan's connections", func(rows []ssRow) bool {
		out := where(rows, func(r ssRow) bool {
			return r.state == "ESTAB" && host(r.local) == ScanSource && inRange(port(r.remote)) && r.ownedBy(scanner)
		})
		in := where(rows, func(r ssRow) bool {
			return r.state == "ESTAB" && host(r.remote) == ScanSource && inRange(port(r.local))
		})
		ls := where(rows, func(r ssRow) bool { return r.state == "LISTEN" && inRange(port(r.local)) })
		for _, r := range in {
			if !strings.Contains(r.local, n.Filter) {
				return false
			}
		}
		return len(out) == ScanOpen && len(in) == ScanOpen && len(ls) == ScanOpen
	})
	// Dropped after the hold, with resets: nothing of the scan is left.
	c.waitFor(testHold+3*time.Second, "the scan's connections gone without TIME_WAIT", func(rows []ssRow) bool {
		return len(where(rows, func(r ssRow) bool { return host(r.local) == ScanSource || host(r.remote) == ScanSource })) == 0
	})
}

// alive reports whether pid is a live process (not gone, not a zombie).
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}

// checkBack goes back to step 4, 2 and 1, and checks that only the sockets
// of the steps up to there remain, and only their helpers; then forward
// to 3 and 3 again.
func checkBack(c *checker) {
	c.Helper()
	later := func(from int) (pids []int) {
		for st := from; st <= 10; st++ {
			if c.s.states[st-1] == nil {
				continue
			}
			for _, h := range c.s.states[st-1].helpers {
				pids = append(pids, h.pid)
			}
		}
		return pids
	}
	gone := later(5)
	c.goStep(3) // step 4
	late := append([]int{c.s.port(PortFiltered), c.s.port(PortClosed), c.s.port(PortLoopbackOnly), c.s.port(PortAllInterfaces), int(c.s.backdoor.Load())}, c.step8Ports()...)
	for p := c.s.port(ScanFirst); p < c.s.port(ScanFirst)+ScanPorts; p++ {
		late = append(late, p)
	}
	c.waitFor(3*time.Second, "only the sockets of steps 1 to 4", func(rows []ssRow) bool {
		cw := where(rows, func(r ssRow) bool { return r.state == "CLOSE-WAIT" && r.local == loop(c.s.port(PortLeaky)) })
		ls := where(rows, func(r ssRow) bool { return r.state == "LISTEN" && r.local == loop(c.s.port(PortServer)) })
		scan := where(rows, func(r ssRow) bool { return host(r.local) == ScanSource || host(r.remote) == ScanSource })
		return len(onPorts(rows, late...)) == 0 && len(scan) == 0 && len(cw) >= 3 && len(ls) == 1
	})
	for _, pid := range gone {
		if alive(pid) {
			c.Errorf("helper %d of a later step still runs after going back to step 4", pid)
		}
	}

	gone = later(3)
	c.goStep(1) // step 2: step 3's TIME_WAIT and step 4's sockets go
	cl := c.s.clientLocal
	c.waitFor(4*time.Second, "only a listener and one ESTABLISHED pair", func(rows []ssRow) bool {
		lab := where(rows, c.onLab)
		pair := where(lab, func(r ssRow) bool {
			return r.state == "ESTAB" && (r.local == cl && r.remote == loop(c.s.port(PortServer)) || r.local == loop(c.s.port(PortServer)) && r.remote == cl)
		})
		return len(lab) == 3 && len(pair) == 2 && len(where(lab, isState("LISTEN"))) == 1
	})
	for _, pid := range gone {
		if alive(pid) {
			c.Errorf("helper %d of a later step still runs after going back to step 2", pid)
		}
	}

	c.goStep(0)
	c.waitFor(3*time.Second, "only the listener of step 1", func(rows []ssRow) bool {
		lab := where(rows, c.onLab)
		return len(lab) == 1 && lab[0].state == "LISTEN" && lab[0].local == loop(c.s.port(PortServer))
	})

	// Forward over two steps, then step 3 again: it connects anew first.
	c.goStep(2)
	first := c.pid(2, "lab-client")
	cl = c.s.clientLocal
	finWait1 := func(pid int) func([]ssRow) bool {
		return func(rows []ssRow) bool {
			fw := where(rows, func(r ssRow) bool { return r.state == "FIN-WAIT-1" && r.local == cl && r.ownedBy(pid) })
			return len(fw) == 1 && len(where(rows, func(r ssRow) bool { return r.local == cl })) == 1
		}
	}
	c.waitFor(3*time.Second, "FIN_WAIT1 on the client", finWait1(first))
	c.goStep(2)
	again := c.pid(2, "lab-client")
	if again == first || alive(first) {
		c.Fatalf("step 3 again did not connect anew: client %d, before %d (alive %v)", again, first, alive(first))
	}
	c.waitFor(3*time.Second, "FIN_WAIT1 on the new client only", finWait1(again))
	// The same four addresses as before: the server must follow the new
	// connection, not the one it held before.
	checkClosing(c, cl, loop(c.s.port(PortServer)))
}

// checkClose closes the scene: no socket on the lab's ports, no helper,
// no firewall table; Close again says the same, Go refuses.
func checkClose(c *checker) {
	c.Helper()
	pids := c.s.helperPIDs()
	if len(pids) < 15 {
		c.Errorf("the scene started %d helpers, want every step's", len(pids))
	}
	if err := c.sc.Close(); err != nil {
		c.Errorf("Close: %v", err)
	}
	rows := c.rows()
	if lab := c.leftOnLab(rows); len(lab) > 0 {
		c.Errorf("sockets left on the lab's ports after Close:\n%s", dump(lab))
	}
	for _, pid := range pids {
		if alive(pid) {
			c.Errorf("helper %d still runs after Close", pid)
		}
	}
	if labTableExists(c) {
		c.Errorf("the nftables table %s is left after Close", labTable)
	}
	if err := c.sc.Close(); err != nil {
		c.Errorf("Close again: %v", err)
	}
	if _, err := c.sc.Go(c.ctx, 0); !errors.Is(err, errClosed) {
		c.Errorf("Go after Close: %v, want %v", err, errClosed)
	}
}

// TestStepsOnLoopback runs the scene on this machine's loopback, the path
// of a user without root: as this user, then for real as nobody.
func TestStepsOnLoopback(t *testing.T) {
	sockettest.SkipShort(t, "20 s: the nine steps against ss, as this user and as nobody")
	t.Parallel()
	t.Run("this_user", func(t *testing.T) {
		t.Logf("uid %d", os.Geteuid())
		checkScene(t, Options{Hold: testHold, Unprivileged: os.Getenv(forceUnprivilegedEnv) != ""})
	})
	if os.Getenv(asNobodyEnv) != "" {
		return
	}
	t.Run("close_during_go", func(t *testing.T) {
		requireSS(t)
		c := newChecker(t, Options{Hold: testHold})
		done := make(chan error, 1)
		go func() {
			_, err := c.sc.Go(c.ctx, 8) // every step, one after the other
			done <- err
		}()
		// Under way: step 1's listener is up, eight steps to go.
		c.waitFor(3*time.Second, "step 1's listener", func(rows []ssRow) bool {
			return len(where(rows, func(r ssRow) bool { return r.state == "LISTEN" && r.local == loop(c.s.port(PortServer)) })) == 1
		})
		if err := c.sc.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		select {
		case <-done: // stopped, or done just before: Close undid it either way
		case <-time.After(10 * time.Second):
			t.Fatal("Go still runs 10 s after Close")
		}
		if lab := c.leftOnLab(c.rows()); len(lab) > 0 {
			t.Errorf("sockets left after Close during Go:\n%s", dump(lab))
		}
		for _, pid := range c.s.helperPIDs() {
			if alive(pid) {
				t.Errorf("helper %d still runs after Close during Go", pid)
			}
		}
	})
	t.Run("nobody", func(t *testing.T) {
		sockettest.NeedRoot(t, "to start the test as nobody")
		out, err := runTestChild(t, "^TestStepsOnLoopback$/^this_user$", false, nobody, asNobodyEnv+"=1")
		if err != nil || !strings.Contains(out, "--- PASS: TestStepsOnLoopback/this_user") {
			t.Fatalf("the scene as nobody: %v\n%s", err, out)
		}
		if !strings.Contains(out, "uid 65534") {
			t.Errorf("the child did not run as nobody:\n%s", out)
		}
	})
}

// TestStepsInNamespace runs the scene as root in a network namespace of its
// own, as portwatch lab does: on the privileged path (well-known ports, an
// nftables rule) and, forced by Options.Unprivileged, on the path of a user
// without root.
//
// As nobody, NamespaceCommand makes a user namespace too, where nobody is
// root: the same privileged path, 22, 80, 443 and the nft rule included.
func TestStepsInNamespace(t *testing.T) {
	if InNamespace() {
		if os.Getenv(forceUnprivilegedEnv) == "" && os.Geteuid() != 0 {
			t.Fatal("in the lab's namespace but not root")
		}
		t.Logf("in a user namespace of its own: %v", InUserNamespace())
		checkScene(t, Options{Hold: testHold, Unprivileged: os.Getenv(forceUnprivilegedEnv) != ""})
		return
	}
	if os.Getenv(asNobodyEnv) != "" {
		// nobody, as portwatch lab without root: into the namespaces.
		out, err := runTestChild(t, "^TestStepsInNamespace$", true, nil)
		if err != nil || !strings.Contains(out, "--- PASS: TestStepsInNamespace") {
			t.Fatalf("the scene in nobody's namespaces: %v\n%s", err, out)
		}
		if !strings.Contains(out, "in a user namespace of its own: true") {
			t.Errorf("the scene did not run in a user namespace of its own:\n%s", out)
		}
		return
	}
	t.Parallel()
	sockettest.NeedRoot(t, "to make a network namespace, and to start the test as nobody")
	for _, mode := range []struct {
		name  string
		netns bool
		cred  *syscall.Credential
		env   []string
	}{
		{"root", true, nil, nil},
		{"forced_unprivileged", true, nil, []string{forceUnprivilegedEnv + "=1"}},
		{"nobody_user_namespace", false, nobody, []string{asNobodyEnv + "=1"}},
	} {
		t.Run(mode.name, func(t *testing.T) {
			t.Parallel()
			if mode.cred != nil && !userNamespacesAllowed() {
				t.Skip("this kernel refuses users a user namespace (user.max_user_namespaces)")
			}
			out, err := runTestChild(t, "^TestStepsInNamespace$", mode.netns, mode.cred, mode.env...)
			if err != nil || !strings.Contains(out, "--- PASS: TestStepsInNamespace") {
				t.Fatalf("the scene in its namespace: %v\n%s", err, out)
			}
		})
	}
}

// userNamespacesAllowed: the kernel lets a user make a user namespace.
func userNamespacesAllowed() bool {
	b, err := os.ReadFile("/proc/sys/user/max_user_namespaces")
	if err != nil || strings.TrimSpace(string(b)) == "0" {
		return false
	}
	b, err = os.ReadFile("/proc/sys/kernel/unprivileged_userns_clone") // Debian's switch, where there is one
	return err != nil || strings.TrimSpace(string(b)) != "0"
}

func TestGoRefusesStepsThatDoNotExist(t *testing.T) {
	sc, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	if sc.Steps() != 10 {
		t.Errorf("Steps() = %d, want 10", sc.Steps())
	}
	for _, i := range []int{-1, 10} {
		if _, err := sc.Go(context.Background(), i); err == nil {
			t.Errorf("Go(%d) did not fail", i)
		}
	}
}

// wrappedLines is how many lines text takes wrapped at width, by words.
func wrappedLines(text string, width int) int {
	lines, col := 1, 0
	for _, w := range strings.Fields(text) {
		n := len([]rune(w))
		switch {
		case col == 0:
			col = n
		case col+1+n > width:
			lines++
			col = n
		default:
			col += 1 + n
		}
	}
	return lines
}
