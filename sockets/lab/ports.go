//go:build linux

package lab

import (
	"fmt"
	"os"

	"github.com/portwatch/portwatch/sockets"
	"golang.org/x/sys/unix"
)

// A class runs many labs on one machine. In a lab's own namespace every
// port is free, and the scene uses the ports written above (the base
// 62000). On the machine's loopback each lab takes a block of its own: a
// base, a multiple of 100 between blockLow and blockHigh (the block is
// the 100 ports from there, each decade one step's, so that a narration's
// filter picks a step's ports by their prefix), chosen at start
// where every port of the block is free, and held for the scene's life by
// a socket bound (not listening) to the base itself, so that a second lab
// starting meanwhile takes another block. A bound socket that does not
// listen is in no table sock_diag lists: the class does not see it.
const (
	defaultBase = 62000
	blockLow    = 61000 // above Linux's default ephemeral range (32768-60999)
	blockHigh   = 65400 // the last base: its block ends at 65499
	blockSpan   = 100
	// backdoorFallback is the offset the backdoor takes when 4444 is held
	// by another lab (or anything else): the last port of the block.
	backdoorFallback = 99
)

// port is one of the lab's ports (written with the base 62000) in this
// scene's block; a well-known port (below 62000) is itself.
func (s *scene) port(p int) int {
	if p < defaultBase {
		return p
	}
	return p - defaultBase + s.base
}

// blockPorts are the ports of a block that the steps use on loopback.
func blockPorts(base int) []int {
	ports := []int{PortServer, PortClient, PortLeaky, PortFiltered, PortClosed, PortLoopbackOnly, PortAllInterfaces,
		PortFTPHigh, PortTelnetHigh, PortTLSHigh, PortSSHHigh, PortHTTPHigh, PortHTTPSHigh}
	for p := ScanFirst; p < ScanFirst+ScanPorts; p++ {
		ports = append(ports, p)
	}
	out := make([]int, 0, len(ports)+1)
	for _, p := range ports {
		out = append(out, p-defaultBase+base)
	}
	return append(out, base+backdoorFallback)
}

// reserveBlock finds a free block and holds it: it returns the base and
// the socket that holds it (closed by the scene's Close).
func reserveBlock() (int, int, error) {
	n := (blockHigh-blockLow)/100 + 1
	start := os.Getpid() % n // labs started together try different blocks first
	for i := range n {
		base := blockLow + ((start+i)%n)*100
		fd, err := bindPort(base, false)
		if err != nil {
			continue // another lab's lock, or someone else's port
		}
		free := true
		for _, p := range blockPorts(base) {
			probe, err := bindPort(p, true)
			if err != nil {
				free = false
				break
			}
			unix.Close(probe)
		}
		if free {
			return base, fd, nil
		}
		unix.Close(fd)
	}
	return 0, -1, fmt.Errorf("no block of %d free ports between %d and %d on this machine: too many labs, or other programs hold them",
		blockSpan, blockLow, blockHigh+blockSpan-1)
}

// setBackdoor records the port step 7 took.
func (s *scene) setBackdoor(port int) { s.backdoor.Store(int32(port)) }

// bindPort binds a TCP socket to 0.0.0.0:port without listening. reuse
// sets SO_REUSEADDR, as the helpers' listeners do: a TIME_WAIT left on the
// port does not count as taken, a listener on any address does.
func bindPort(port int, reuse bool) (int, error) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	if reuse {
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
			unix.Close(fd)
			return -1, err
		}
	}
	if err := unix.Bind(fd, &unix.SockaddrInet4{Port: port}); err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

// NetnsLabel is how the monitor labels the lab's own namespace: the
// collector, running in it, would call it "host".
const NetnsLabel = "lab"

// Mine reports whether a socket belongs to the scene: in the lab's own
// namespace, every socket of that namespace (the collector labels it
// host, or NetnsLabel once relabelled); on loopback, a socket of the
// host's namespace with an end on the scene's block or its backdoor port. The monitor shows only these
// by default, so that each student of a class sees their own scene.
func (s *scene) Mine(sk *sockets.Socket) bool {
	// Blocks do not overlap: a port of this block is no other lab's.
	if s.netns {
		return sk.Netns == sockets.HostNetns || sk.Netns == "" || sk.Netns == NetnsLabel
	}
	// A lab in a namespace of its own (another student's, or the test's
	// beside this one) uses the same ports there: as root the collector
	// reads that namespace too, and its sockets are not this scene's.
	if sk.Netns != sockets.HostNetns && sk.Netns != "" {
		return false
	}
	for _, p := range []int{int(sk.LPort), int(sk.RPort)} {
		if (p >= s.base && p < s.base+blockSpan) || p == int(s.backdoor.Load()) {
			return true
		}
	}
	return false
}

// InOwnNamespace reports whether the scene runs in a network namespace of
// its own (whose sockets the collector labels host).
func (s *scene) InOwnNamespace() bool { return s.netns }

func closeFD(fd int) { unix.Close(fd) }
