//go:build linux

package lab

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// stepDef is one step of the scene: what it is called, the tab that shows
// it, and what makes it happen. do returns the narration's text and filter.
type stepDef struct {
	title string
	tab   string
	// usesStep is the 1-based step whose sockets this one uses up (step 3
	// closes step 2's connection), or 0: making this step happen again
	// makes that one happen again first.
	usesStep int
	do       func(ctx context.Context, s *scene, st *stepState) (text, filter string, err error)
}

var steps = []stepDef{
	{title: "A server listens", tab: "listening", do: stepListen},
	{title: "A client connects", tab: "established", do: stepConnect},
	{title: "The client closes", tab: "all", usesStep: 2, do: stepClose},
	{title: "A server that never closes", tab: "all", do: stepLeak},
	{title: "Open, filtered, closed: a firewall rule", tab: "listening", do: stepFiltered},
	{title: "Loopback or all interfaces", tab: "listening", do: stepExposure},
	{title: "A backdoor on 4444", tab: "listening", do: stepBackdoor},
	{title: "Cleartext or encrypted", tab: "listening", do: stepCleartext},
	{title: "A port scan from the inside", tab: "established", do: stepScan},
	{title: "What is this server for?", tab: "listening", do: stepProfile},
}

// loop is 127.0.0.1:port.
func loop(port int) string { return "127.0.0.1:" + strconv.Itoa(port) }

// public is where a service open to every interface binds: 0.0.0.0. In the
// lab's namespace lo is the only interface; on the machine's own loopback
// the socket is tied to lo (SO_BINDTODEVICE, allowed without privilege
// since Linux 5.7), so that it is listed as 0.0.0.0 and judged exposed,
// yet nothing outside the machine can reach it.
func (s *scene) public(port int) (addr string, extra []string) {
	if s.netns {
		return "0.0.0.0:" + strconv.Itoa(port), nil
	}
	return "0.0.0.0:" + strconv.Itoa(port), []string{"dev=lo"}
}

// whoNote tells a class without root why USER says root: in a user
// namespace of the lab's own, the student is root, and only there.
func (s *scene) whoNote() string {
	if !s.userns {
		return ""
	}
	return " USER is root: the lab's own user namespace, where you are root, and only there."
}

// noNamespace says that the lab has no namespace of its own, and why.
func (s *scene) noNamespace() string {
	if s.netns {
		return "this lab may not change its namespace"
	}
	if s.noNetns == "" {
		return "this lab has no namespace of its own"
	}
	return "this lab has no namespace of its own (" + s.noNetns + ")"
}

// pathNote says how the lab keeps an "all interfaces" listener off the network.
func (s *scene) pathNote() string {
	if s.netns {
		return "Here lo is the lab namespace's only interface: nothing outside reaches it."
	}
	return "The lab tied it to lo (0.0.0.0%lo in ss): nothing outside reaches it."
}

// bindErr explains a port the lab could not take.
func bindErr(err error, port int) error {
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		return fmt.Errorf("port %d is already in use on this machine (another program, or another lab): %w", port, err)
	case errors.Is(err, syscall.EACCES):
		return fmt.Errorf("port %d needs privilege: %w", port, err)
	case errors.Is(err, syscall.EPERM):
		// Not bound to 0.0.0.0 untied instead: that would open the port
		// to the network.
		return fmt.Errorf("port %d: tying a socket to lo without root needs Linux 5.7 or later: %w", port, err)
	}
	return err
}

// sleep waits d, or less if ctx ends first; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// seconds writes a hold as the class reads it: "4 s", "1.5 s".
func seconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + " s"
}

func stepListen(ctx context.Context, s *scene, st *stepState) (string, string, error) {
	// The lab's web server runs as a copy of this program named nginx, so
	// that the monitor names it as it names a real one (http, by its
	// program) rather than as an unknown listener that may be a backdoor.
	h, err := s.helperFor(ctx, st, progWeb, 1, "")
	if err != nil {
		return "", "", err
	}
	port := s.port(PortServer)
	// Small buffers, so that step 3 can fill them and hold FIN_WAIT1 and
	// LAST_ACK on screen; the connections it accepts inherit them.
	if _, err := h.call(ctx, "listen", "srv", loop(port), "rcvbuf=4096", "sndbuf=4096"); err != nil {
		return "", "", bindErr(err, port)
	}
	s.server = h
	st.cleanup(func(context.Context) error { s.server = nil; return nil })
	return fmt.Sprintf("lab-nginx (pid %d), the lab's web server, called listen() on 127.0.0.1:%d: the LISTEN row is a "+
		"socket waiting for clients, with no peer yet (remote *). Bound to 127.0.0.1, loopback, it is reachable from "+
		"this machine only. It is in the lab's baseline: expected. (ss -ltnp lists the same row.)%s",
		h.pid, port, s.whoNote()), ":" + strconv.Itoa(port), nil
}

func stepConnect(ctx context.Context, s *scene, st *stepState) (string, string, error) {
	srv := s.server
	if srv == nil || !srv.alive() {
		return "", "", errors.New("the lab's lab-nginx has ended (K?): go back to step 1")
	}
	h, err := s.helperFor(ctx, st, "lab-client", 2, "")
	if err != nil {
		return "", "", err
	}
	// A fixed port, outside the ephemeral range: the class can follow it,
	// and no other socket of the machine holds it, so undoing step 3 can
	// take its TIME_WAIT back (reclaimTimeWait; reuse sets SO_REUSEADDR for
	// that). A TIME_WAIT of this very connection, younger than a second,
	// still holds the four addresses (EADDRNOTAVAIL): wait for it.
	var w []string
	for deadline := time.Now().Add(3 * time.Second); ; {
		w, err = h.call(ctx, "dial", "c", loop(s.port(PortServer)), "from=127.0.0.1", "port="+strconv.Itoa(s.port(PortClient)), "reuse",
			"rcvbuf=4096", "sndbuf=4096")
		if err == nil || !errors.Is(err, syscall.EADDRNOTAVAIL) || time.Now().After(deadline) || !sleep(ctx, 100*time.Millisecond) {
			break
		}
	}
	if err != nil {
		return "", "", bindErr(err, s.port(PortClient))
	}
	kw, err := srv.call(ctx, "find", "srv", w[0])
	if err != nil {
		return "", "", err
	}
	key := kw[0]
	s.client, s.clientLocal, s.serverConn = h, w[0], key
	st.cleanup(func(ctx context.Context) error {
		srv.call(ctx, "abort", key) // the client's end resets when it is killed; this frees the server's too
		s.client, s.clientLocal, s.serverConn = nil, "", ""
		return nil
	})
	_, port, _ := strings.Cut(w[0], ":")
	return fmt.Sprintf("lab-client (pid %d) connected: SYN (SYN_SENT), SYN-ACK, ACK, and both ends are ESTABLISHED. "+
		"On loopback SYN_SENT lasts microseconds, too short for a poll: step 5 shows one that stays. One connection, "+
		"two rows, linked: the client's 127.0.0.1:%s -> :%d (out) and the server's 127.0.0.1:%d -> :%s (in). A client "+
		"usually gets its port from the ephemeral range; the lab fixed this one so you can follow it.",
		h.pid, port, s.port(PortServer), s.port(PortServer), port), ":" + strconv.Itoa(s.port(PortServer)), nil
}

// The phases of step 3's timeline.
const (
	phaseFinWait1  = iota + 1 // the client shut its side; its FIN waits behind data
	phaseCloseWait            // the server read the FIN: CLOSE_WAIT, the client FIN_WAIT2
	phaseLastAck              // the server closed: LAST_ACK
	phaseTimeWait             // the client read the server's FIN: TIME_WAIT
)

// stepClose closes step 2's connection, holding each passing state for
// s.hold: the client sends data the server does not read, so the server's
// receive window fills and the client's FIN waits behind the data
// (FIN_WAIT1); the server reads it all and holds CLOSE_WAIT; it answers and
// closes while the client does not read, so its FIN waits in turn
// (LAST_ACK); the client reads, and its end stays in TIME_WAIT.
func stepClose(ctx context.Context, s *scene, st *stepState) (string, string, error) {
	cl, srv, key, local := s.client, s.server, s.serverConn, s.clientLocal
	if cl == nil || !cl.alive() || srv == nil || !srv.alive() {
		return "", "", errors.New("the client or the server has ended (K?): go back to step 1")
	}
	st.cleanup(func(ctx context.Context) error {
		// Reset whatever is left of the connection: the server's end while
		// it is held, the client's while it is. A TIME_WAIT has no owner to
		// reset: it is taken back.
		srv.call(ctx, "abort", key)
		cl.call(ctx, "abort", "c")
		if st.getPhase() >= phaseLastAck {
			return reclaimTimeWait(ctx, local, loop(s.port(PortServer)))
		}
		return nil
	})
	if _, err := cl.call(ctx, "fill", "c"); err != nil {
		return "", "", err
	}
	if _, err := cl.call(ctx, "shut", "c"); err != nil {
		return "", "", err
	}
	st.setPhase(phaseFinWait1)
	hold := s.hold
	st.background(func(ctx context.Context) {
		if !sleep(ctx, hold) {
			return
		}
		if _, err := srv.call(ctx, "drain", key); err != nil {
			return
		}
		st.setPhase(phaseCloseWait)
		if !sleep(ctx, hold) {
			return
		}
		if _, err := srv.call(ctx, "fill", key); err != nil {
			return
		}
		if _, err := srv.call(ctx, "close", key); err != nil {
			return
		}
		st.setPhase(phaseLastAck)
		if !sleep(ctx, hold) {
			return
		}
		if _, err := cl.call(ctx, "drain", "c"); err != nil {
			return
		}
		st.setPhase(phaseTimeWait)
		cl.call(ctx, "close", "c")
	})
	_, port, _ := strings.Cut(local, ":")
	return fmt.Sprintf("The client (port %s) closed its side: its FIN waits behind data the server has not read, in "+
		"FIN_WAIT1. In %s the server reads it all: the client goes to FIN_WAIT2, the server to CLOSE_WAIT (its peer "+
		"has closed, it has not yet). %s later the server closes: LAST_ACK until its FIN is acknowledged, then gone. "+
		"The client's end stays in TIME_WAIT for 60 s, owned by no process.",
		port, seconds(hold), seconds(hold)), ":" + strconv.Itoa(s.port(PortServer)), nil
}

// stepLeak: a server that accepts and never closes. Clients connect and
// close; each server end stays in CLOSE_WAIT for as long as the process lives.
func stepLeak(ctx context.Context, s *scene, st *stepState) (string, string, error) {
	lk, err := s.helperFor(ctx, st, "leaky-server", 4, "")
	if err != nil {
		return "", "", err
	}
	leaky := s.port(PortLeaky)
	if _, err := lk.call(ctx, "listen", "srv", loop(leaky)); err != nil {
		return "", "", bindErr(err, leaky)
	}
	cl, err := s.helperFor(ctx, st, "lab-client", 4, "")
	if err != nil {
		return "", "", err
	}
	var (
		mu sync.Mutex
		n  int
	)
	connectAndClose := func(ctx context.Context) error {
		mu.Lock()
		n++
		key := "c" + strconv.Itoa(n)
		mu.Unlock()
		w, err := cl.call(ctx, "dial", key, loop(leaky))
		if err != nil {
			return err
		}
		// The server holds it before the client closes: its CLOSE_WAIT
		// then belongs to the process, not to the accept queue.
		if _, err := lk.call(ctx, "find", "srv", w[0]); err != nil {
			return err
		}
		_, err = cl.call(ctx, "close", key)
		return err
	}
	const first, most = 3, 10
	for range first {
		if err := connectAndClose(ctx); err != nil {
			return "", "", err
		}
	}
	hold := s.hold
	st.background(func(ctx context.Context) {
		for range most - first {
			if !sleep(ctx, hold) || connectAndClose(ctx) != nil {
				return
			}
		}
	})
	return fmt.Sprintf("leaky-server (pid %d) accepts connections and never closes them. %d clients connected and "+
		"closed: each server end stays in CLOSE_WAIT, waiting for a close() that never comes; one more client comes "+
		"every %s, up to %d. CLOSE_WAIT never times out: a growing pile held by one pid names the buggy program, and "+
		"ends in \"too many open files\". The clients' ends wait in FIN_WAIT2 until the kernel drops them (60 s).",
		lk.pid, first, seconds(hold), most), ":" + strconv.Itoa(leaky), nil
}

func stepExposure(ctx context.Context, s *scene, st *stepState) (string, string, error) {
	h, err := s.helperFor(ctx, st, "lab-service", 6, "")
	if err != nil {
		return "", "", err
	}
	local, all := s.port(PortLoopbackOnly), s.port(PortAllInterfaces)
	if _, err := h.call(ctx, "listen", "local", loop(local)); err != nil {
		return "", "", bindErr(err, local)
	}
	addr, o := s.public(all)
	if _, err := h.call(ctx, "listen", append([]string{"all", addr}, o...)...); err != nil {
		return "", "", bindErr(err, all)
	}
	return fmt.Sprintf("lab-service (pid %d) listens twice. 127.0.0.1:%d is loopback only: reachable from this machine "+
		"alone. 0.0.0.0:%d is on all interfaces: reachable from every network the machine is on, the usual way a "+
		"service meant to stay local gets exposed (see the exposure and the finding). %s",
		h.pid, local, all, s.pathNote()), ":" + strconv.Itoa(local/10), nil
}

// stepBackdoor starts a copy of this program named kworker, run from /tmp
// and deleted once started, that listens on 4444. It only listens.
func stepBackdoor(ctx context.Context, s *scene, st *stepState) (string, string, error) {
	var h *helper
	var err error
	for try := 0; ; try++ {
		h, err = s.startBackdoor(ctx, st)
		// A copy still open for writing in a process forked meanwhile
		// cannot be run (ETXTBSY) for a moment: try again.
		if err == nil || !errors.Is(err, syscall.ETXTBSY) || try == 4 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		return "", "", err
	}
	// 4444 if it is free; another lab of the class may hold it, and then
	// the last port of this lab's block.
	port := PortBackdoor
	addr, o := s.public(port)
	_, err = h.call(ctx, "listen", append([]string{"bd", addr}, o...)...)
	if errors.Is(err, syscall.EADDRINUSE) && !s.netns {
		port = s.base + backdoorFallback
		addr, o = s.public(port)
		_, err = h.call(ctx, "listen", append([]string{"bd", addr}, o...)...)
	}
	if err != nil {
		return "", "", bindErr(err, port)
	}
	s.setBackdoor(port)
	exe, _ := os.Readlink("/proc/" + strconv.Itoa(h.pid) + "/exe")
	where := "not where a system daemon lives"
	if strings.HasSuffix(exe, " (deleted)") {
		where = "run from /tmp and deleted once started, as malware hides"
	}
	which := "Metasploit's default port: HIGH"
	if port != PortBackdoor {
		which = "as 4444, Metasploit's default, is taken (another lab?)"
	}
	return fmt.Sprintf("kworker (pid %d) listens on 0.0.0.0:%d, %s, and the lab's baseline does not expect it: "+
		"UNEXPECTED, the only one. Real kworkers are kernel threads, with no socket and no file. Its details show the "+
		"program: %s, %s. ls -l /proc/%d/exe; K ends it. (Harmless: a copy of portwatch that only listens.)",
		h.pid, port, which, exe, where, h.pid), ":" + strconv.Itoa(port), nil
}

func (s *scene) startBackdoor(ctx context.Context, st *stepState) (*helper, error) {
	dir, err := os.MkdirTemp("", "portwatch-lab-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir) // once it runs: its exe then reads "(deleted)"
	os.Chmod(dir, 0o755)
	exe, err := copyProgram(dir, "kworker")
	if err != nil {
		exe = "" // run as this program, named kworker all the same
	}
	return s.helperFor(ctx, st, "kworker", 7, exe)
}

// stepCleartext: telnet and ftp stand-ins against a TLS service, each with
// a client logged in.
func stepCleartext(ctx context.Context, s *scene, st *stepState) (string, string, error) {
	ftp, telnet, tlsPort := s.port(PortFTPHigh), s.port(PortTelnetHigh), s.port(PortTLSHigh)
	filter := ":" + strconv.Itoa(ftp/10)
	if s.privileged {
		ftp, telnet, tlsPort = 21, 23, portTLSRoot
		filter = "portwatch-lab-step-8" // the helpers' command lines
	}
	client, err := s.helperFor(ctx, st, "lab-client", 8, "")
	if err != nil {
		return "", "", err
	}
	for _, svc := range []struct {
		name, mode string
		port       int
		exe        string
	}{{progFTP, "ftp", ftp, ""}, {"lab-telnetd", "telnet", telnet, ""}, {"lab-httpsd", "tls", tlsPort, ""}} {
		// The FTP server runs as a copy named vsftpd: the monitor names it
		// ftp by its program, with the cleartext finding, on any port.
		h, err := s.helperFor(ctx, st, svc.name, 8, svc.exe)
		if err != nil {
			return "", "", err
		}
		addr, o := s.public(svc.port)
		if _, err := h.call(ctx, "listen", append([]string{"srv", addr, "serve=" + svc.mode}, o...)...); err != nil {
			return "", "", bindErr(err, svc.port)
		}
		if _, err := client.call(ctx, "dial", svc.mode, loop(svc.port), "talk="+svc.mode); err != nil {
			return "", "", err
		}
	}
	where := "High ports (below 1024 needs root): no registry names them, so nothing says cleartext: on odd ports " +
		"it goes unnoticed."
	if s.privileged {
		where = "Only the port's service and the cleartext finding tell them apart."
	}
	return fmt.Sprintf("lab-vsftpd (%d), lab-telnetd (%d) and lab-httpsd (%d, TLS) listen; lab-client (pid %d) logged "+
		"in to each with the password \"secret\". ftp and telnet are cleartext: anyone on the path reads it "+
		"(tcpdump -A); TLS encrypts all after its handshake. In the table they look alike. %s",
		ftp, telnet, tlsPort, client.pid, where), filter, nil
}

// stepScan: one source address connects to many of our ports at once.
func stepScan(ctx context.Context, s *scene, st *stepState) (string, string, error) {
	srv, err := s.helperFor(ctx, st, "lab-services", 9, "")
	if err != nil {
		return "", "", err
	}
	first := s.port(ScanFirst)
	for p := first + 1; p <= first+ScanOpen; p++ {
		addr, o := s.public(p)
		if _, err := srv.call(ctx, "listen", append([]string{"p" + strconv.Itoa(p), addr}, o...)...); err != nil {
			return "", "", bindErr(err, p)
		}
	}
	sc, err := s.helperFor(ctx, st, "lab-scanner", 9, "")
	if err != nil {
		return "", "", err
	}
	type result struct {
		key string
		err error
	}
	results := make(chan result, ScanPorts)
	for p := first; p < first+ScanPorts; p++ {
		go func() {
			key := "p" + strconv.Itoa(p)
			_, err := sc.call(ctx, "dial", key, loop(p), "from="+ScanSource)
			results <- result{key, err}
		}()
	}
	var open []string
	refused := 0
	for range ScanPorts {
		r := <-results
		switch {
		case r.err == nil:
			open = append(open, r.key)
		case errors.Is(r.err, syscall.ECONNREFUSED):
			refused++
		default:
			return "", "", r.err
		}
	}
	hold := s.hold
	st.background(func(ctx context.Context) {
		if !sleep(ctx, hold) {
			return
		}
		for _, k := range open {
			sc.call(ctx, "abort", k)
		}
	})
	return fmt.Sprintf("lab-scanner (pid %d), from %s, knocked on %d ports (%d-%d) at once: %d answered "+
			"(lab-services listens there), %d refused. From the inside a scan is one remote address connected to many of "+
			"our ports (the port-scan finding). It drops them in %s with resets; closed and filtered ports leave no "+
			"socket, only a firewall's log would show those knocks.",
			sc.pid, ScanSource, ScanPorts, first, first+ScanPorts-1, len(open), refused, seconds(hold)),
		":" + strconv.Itoa(first/10), nil
}
