//go:build linux

package lab

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// A helper is a process the scene starts to hold some of its sockets: a
// server, a client, a scanner, the backdoor. It is this same program run
// again with helperEnv set to its name; the package's init sees the
// variable, runs the helper and exits, before main (or a test) starts. A
// helper does only what its parent asks, one line per order on its
// standard input, and answers on its standard output:
//
//	ID VERB KEY ARGS...      an order; ID is the parent's number for it
//	ID ok WORDS...           done
//	ID err ERRNO TEXT        failed: ERRNO is the system's name (ECONNREFUSED) or "-"
//
// A listener's connections are keyed LISTENER/N, N counting from 1; find
// names the one that came from a given address.
//
// Orders are served concurrently: a connect that the kernel retries for
// two minutes blocks nobody. A helper ends when its input closes or its
// parent dies (Pdeathsig). Every socket it holds is set to reset on close
// (SO_LINGER 0) unless an order closes it gracefully, so that a helper
// that is killed leaves no TIME_WAIT behind.
const helperEnv = "PORTWATCH_LAB_HELPER"

func init() {
	if name := os.Getenv(helperEnv); name != "" {
		os.Exit(runHelper(name, os.Stdin, os.Stdout))
	}
}

// actor is a helper's state: its sockets by key.
type actor struct {
	mu      sync.Mutex
	out     *bufio.Writer
	lns     map[string]net.Listener
	conns   map[string]net.Conn
	next    map[string]int // the last number given to a listener's connections
	tlsOnce sync.Once
	tlsCert tls.Certificate
	tlsErr  error
}

func runHelper(name string, in io.Reader, out io.Writer) int {
	// The kernel names a process after the file it runs; a helper started
	// through /proc/self/exe would be "exe". Writing /proc/self/comm names
	// the whole process (its main thread) from any thread.
	if len(name) > 15 {
		name = name[:15]
	}
	os.WriteFile("/proc/self/comm", []byte(name), 0)
	os.Unsetenv(helperEnv)
	a := &actor{out: bufio.NewWriter(out), lns: map[string]net.Listener{}, conns: map[string]net.Conn{}, next: map[string]int{}}
	a.say("ready " + strconv.Itoa(os.Getpid()))
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 4096), 1<<16)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 {
			continue
		}
		go a.serve(f[0], f[1], f[2:])
	}
	// The parent closed our input: it is done with us, or it died. A test
	// sets helperStayEnv to see that Pdeathsig alone ends a helper.
	for os.Getenv(helperStayEnv) != "" {
		time.Sleep(time.Hour)
	}
	return 0
}

// helperStayEnv keeps a helper running after its input closes: a test's
// seam, so that only Pdeathsig can end it.
const helperStayEnv = "PORTWATCH_LAB_TEST_HELPERS_STAY"

// say writes one line to the parent.
func (a *actor) say(line string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.out.WriteString(line + "\n")
	a.out.Flush()
}

func (a *actor) serve(id, verb string, args []string) {
	res, err := a.do(verb, args)
	if err != nil {
		name := "-"
		var errno syscall.Errno
		if errors.As(err, &errno) {
			if n := unix.ErrnoName(errno); n != "" {
				name = n
			}
		}
		a.say(id + " err " + name + " " + strings.ReplaceAll(err.Error(), "\n", " "))
		return
	}
	a.say(strings.TrimSpace(id + " ok " + res))
}

// opts reads KEY=VALUE words (a bare word is KEY=).
func opts(args []string) map[string]string {
	m := map[string]string{}
	for _, a := range args {
		k, v, _ := strings.Cut(a, "=")
		m[k] = v
	}
	return m
}

func (a *actor) do(verb string, args []string) (string, error) {
	if len(args) < 1 {
		return "", errors.New("no key")
	}
	key, rest := args[0], args[1:]
	switch verb {
	case "listen":
		if len(rest) < 1 {
			return "", errors.New("listen KEY ADDR [OPTIONS]")
		}
		return a.listen(key, rest[0], opts(rest[1:]))
	case "dial":
		if len(rest) < 1 {
			return "", errors.New("dial KEY ADDR [OPTIONS]")
		}
		return a.dial(key, rest[0], opts(rest[1:]))
	}
	if verb == "find" {
		if len(rest) < 1 {
			return "", errors.New("find LISTENER REMOTE")
		}
		return a.find(key, rest[0])
	}
	c := a.conn(key)
	switch verb {
	case "abort": // close with a reset; a listener is simply closed
		a.mu.Lock()
		ln := a.lns[key]
		delete(a.lns, key)
		delete(a.conns, key)
		a.mu.Unlock()
		if ln != nil {
			return "", ln.Close()
		}
		if c == nil {
			return "", fmt.Errorf("no socket %s", key)
		}
		setLinger(c, 0)
		return "", c.Close()
	}
	if c == nil {
		return "", fmt.Errorf("no connection %s", key)
	}
	switch verb {
	case "fill": // write until the peer's window and our buffer are full
		buf := make([]byte, 64<<10)
		total := 0
		for {
			c.SetWriteDeadline(time.Now().Add(300 * time.Millisecond))
			n, err := c.Write(buf)
			total += n
			if err != nil {
				c.SetWriteDeadline(time.Time{})
				if errors.Is(err, os.ErrDeadlineExceeded) {
					return strconv.Itoa(total), nil
				}
				return "", err
			}
		}
	case "drain": // read until the peer's FIN
		n, err := io.Copy(io.Discard, c)
		return strconv.FormatInt(n, 10), err
	case "shut": // FIN: no more data from us
		if cw, ok := c.(interface{ CloseWrite() error }); ok {
			return "", cw.CloseWrite()
		}
		return "", errors.New("cannot half-close")
	case "close": // a graceful close: FIN, and TIME_WAIT if we close first
		a.mu.Lock()
		delete(a.conns, key)
		a.mu.Unlock()
		setLinger(c, -1)
		return "", c.Close()
	}
	return "", fmt.Errorf("unknown order %q", verb)
}

// find waits up to 5 s for a live connection (ESTABLISHED or CLOSE_WAIT)
// that listener accepted from remote, and gives its key, the newest if
// several. Connections of the same four addresses that went before (the
// lab reuses the client's port) are closed: their state says so.
func (a *actor) find(listener, remote string) (string, error) {
	deadline := time.Now().Add(5 * time.Second)
	for {
		best, bestN := "", 0
		a.mu.Lock()
		for k, c := range a.conns {
			n, err := strconv.Atoi(strings.TrimPrefix(k, listener+"/"))
			if err != nil || !strings.HasPrefix(k, listener+"/") || c.RemoteAddr().String() != remote || n < bestN {
				continue
			}
			if st := tcpState(c); st == tcpEstablished || st == tcpCloseWait {
				best, bestN = k, n
			}
		}
		a.mu.Unlock()
		if best != "" {
			return best, nil
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("%s accepted no live connection from %s", listener, remote)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TCP states as the kernel numbers them in tcp_info.
const (
	tcpEstablished = 1
	tcpCloseWait   = 8
)

// tcpState is the kernel's state of a connection's socket, or 0.
func tcpState(c net.Conn) uint8 {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return 0
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return 0
	}
	var st uint8
	rc.Control(func(fd uintptr) {
		if info, err := unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO); err == nil {
			st = info.State
		}
	})
	return st
}

func (a *actor) conn(key string) net.Conn {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.conns[key]
}

// setLinger sets SO_LINGER: 0 resets on close, -1 is the default graceful close.
func setLinger(c net.Conn, sec int) {
	switch c := c.(type) {
	case *net.TCPConn:
		c.SetLinger(sec)
	case *tls.Conn:
		if tc, ok := c.NetConn().(*net.TCPConn); ok {
			tc.SetLinger(sec)
		}
	}
}

// sockopts applies the options both listen and dial take, before bind.
func sockopts(o map[string]string) func(string, string, syscall.RawConn) error {
	return func(_, _ string, rc syscall.RawConn) error {
		var err error
		cerr := rc.Control(func(fd uintptr) {
			set := func(level, opt int, v string) {
				if n, e := strconv.Atoi(v); e == nil && err == nil {
					err = unix.SetsockoptInt(int(fd), level, opt, n)
				}
			}
			if _, ok := o["reuse"]; ok && err == nil {
				err = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
			}
			set(unix.SOL_SOCKET, unix.SO_RCVBUF, o["rcvbuf"])
			set(unix.SOL_SOCKET, unix.SO_SNDBUF, o["sndbuf"])
			if dev := o["dev"]; dev != "" && err == nil {
				err = unix.BindToDevice(int(fd), dev)
			}
		})
		if cerr != nil {
			return cerr
		}
		return err
	}
}

// listen opens a TCP listener. Options: backlog=N (the accept queue; a
// full one drops new SYNs), rcvbuf=, sndbuf=, dev=IFACE, and serve=: hold
// (accept and keep every connection, never reading or closing: the
// default), none (never accept), ftp or telnet (a cleartext login
// exchange, then hold), tls (a TLS handshake, then hold).
func (a *actor) listen(key, addr string, o map[string]string) (string, error) {
	ap, err := net.ResolveTCPAddr("tcp4", addr)
	if err != nil {
		return "", err
	}
	backlog := 128
	if b, err := strconv.Atoi(o["backlog"]); err == nil {
		backlog = b
	}
	// Go's Listen takes the system's maximum backlog; a small one needs the
	// socket calls themselves.
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return "", err
	}
	o["reuse"] = ""
	f := os.NewFile(uintptr(fd), "listener")
	defer f.Close() // FileListener dups it
	rc, err := f.SyscallConn()
	if err != nil {
		return "", err
	}
	if err := sockopts(o)("", "", rc); err != nil {
		return "", err
	}
	sa := &unix.SockaddrInet4{Port: ap.Port}
	copy(sa.Addr[:], ap.IP.To4())
	if err := unix.Bind(fd, sa); err != nil {
		return "", err
	}
	if err := unix.SetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0}); err != nil {
		return "", err
	}
	if err := unix.Listen(fd, backlog); err != nil {
		return "", err
	}
	ln, err := net.FileListener(f)
	if err != nil {
		return "", err
	}
	a.mu.Lock()
	a.lns[key] = ln
	a.mu.Unlock()
	if mode := o["serve"]; mode != "none" {
		go a.acceptLoop(key, ln, mode)
	}
	return ln.Addr().String(), nil
}

func (a *actor) acceptLoop(key string, ln net.Listener, mode string) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		setLinger(c, 0)
		a.mu.Lock()
		a.next[key]++
		ck := key + "/" + strconv.Itoa(a.next[key])
		a.conns[ck] = c
		a.mu.Unlock()
		go a.talkServer(ck, c, mode)
	}
}

// talkServer is a server's side of a conversation; then the connection is
// held until an order or the helper's end closes it.
func (a *actor) talkServer(key string, c net.Conn, mode string) {
	c.SetDeadline(time.Now().Add(10 * time.Second))
	defer c.SetDeadline(time.Time{})
	r := bufio.NewReader(c)
	switch mode {
	case "ftp":
		fmt.Fprint(c, "220 portwatch lab FTP stand-in ready\r\n")
		if line, err := r.ReadString('\n'); err == nil && strings.HasPrefix(line, "USER ") {
			fmt.Fprint(c, "331 Please specify the password.\r\n")
			if line, err := r.ReadString('\n'); err == nil && strings.HasPrefix(line, "PASS ") {
				fmt.Fprint(c, "230 Login successful.\r\n")
			}
		}
	case "telnet":
		fmt.Fprint(c, "portwatch lab telnet stand-in\r\nlogin: ")
		if _, err := r.ReadString('\n'); err == nil {
			fmt.Fprint(c, "Password: ")
			if _, err := r.ReadString('\n'); err == nil {
				fmt.Fprint(c, "\r\nWelcome.\r\n$ ")
			}
		}
	case "tls":
		cert, err := a.cert()
		if err != nil {
			return
		}
		tc := tls.Server(c, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
		if tc.Handshake() == nil {
			tr := bufio.NewReader(tc)
			if line, err := tr.ReadString('\n'); err == nil && strings.HasPrefix(line, "LOGIN ") {
				fmt.Fprint(tc, "OK welcome\n")
			}
			a.mu.Lock()
			if a.conns[key] == c {
				a.conns[key] = tc
			}
			a.mu.Unlock()
		}
	}
}

// cert is a self-signed certificate made once, when a TLS listener first
// needs it.
func (a *actor) cert() (tls.Certificate, error) {
	a.tlsOnce.Do(func() {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			a.tlsErr = err
			return
		}
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "portwatch lab"},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
			DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
		if err != nil {
			a.tlsErr = err
			return
		}
		a.tlsCert = tls.Certificate{Certificate: [][]byte{der}, PrivateKey: k}
	})
	return a.tlsCert, a.tlsErr
}

// dial connects. Options: from=IP and port=N (the local end), reuse,
// rcvbuf=, sndbuf=, and talk=: ftp or telnet (log in in cleartext), tls (a
// TLS handshake, then a login inside it). It answers "LOCAL REMOTE".
func (a *actor) dial(key, addr string, o map[string]string) (string, error) {
	d := net.Dialer{Control: sockopts(o)}
	if from := o["from"]; from != "" || o["port"] != "" {
		p, _ := strconv.Atoi(o["port"])
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(from), Port: p}
	}
	c, err := d.DialContext(context.Background(), "tcp4", addr)
	if err != nil {
		var op *net.OpError
		if errors.As(err, &op) {
			err = op.Err
		}
		var sc *os.SyscallError
		if errors.As(err, &sc) {
			err = sc.Err
		}
		return "", err
	}
	setLinger(c, 0)
	res := c.LocalAddr().String() + " " + c.RemoteAddr().String()
	if talk := o["talk"]; talk != "" {
		var err error
		if c, err = talkClient(c, talk); err != nil {
			c.Close()
			return "", err
		}
	}
	a.mu.Lock()
	a.conns[key] = c
	a.mu.Unlock()
	return res, nil
}

// talkClient logs in as a student would; the password crosses the wire as
// the protocol carries it: readable on 21 and 23, inside TLS records on 443.
func talkClient(c net.Conn, talk string) (net.Conn, error) {
	c.SetDeadline(time.Now().Add(5 * time.Second))
	defer c.SetDeadline(time.Time{})
	expect := func(r *bufio.Reader, w io.Writer, until, send string) error {
		var got strings.Builder
		for !strings.Contains(got.String(), until) {
			b, err := r.ReadByte()
			if err != nil {
				return fmt.Errorf("waiting for %q: %w", until, err)
			}
			got.WriteByte(b)
		}
		if send != "" {
			_, err := io.WriteString(w, send)
			return err
		}
		return nil
	}
	switch talk {
	case "ftp":
		r := bufio.NewReader(c)
		for _, s := range [][2]string{{"220 ", "USER student\r\n"}, {"331 ", "PASS secret\r\n"}, {"230 ", ""}} {
			if err := expect(r, c, s[0], s[1]); err != nil {
				return c, err
			}
		}
	case "telnet":
		r := bufio.NewReader(c)
		for _, s := range [][2]string{{"login: ", "student\r\n"}, {"Password: ", "secret\r\n"}, {"$ ", ""}} {
			if err := expect(r, c, s[0], s[1]); err != nil {
				return c, err
			}
		}
	case "tls":
		// The lab's server made its certificate a moment ago: there is no
		// authority to check it against. What the lesson needs is the
		// encryption, which a handshake gives either way.
		tc := tls.Client(c, &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12}) //nolint:gosec
		if err := tc.Handshake(); err != nil {
			return c, err
		}
		if _, err := io.WriteString(tc, "LOGIN student secret\n"); err != nil {
			return tc, err
		}
		if err := expect(bufio.NewReader(tc), tc, "OK", ""); err != nil {
			return tc, err
		}
		return tc, nil
	}
	return c, nil
}
