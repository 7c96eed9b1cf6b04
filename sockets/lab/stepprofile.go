//go:build linux

package lab

import (
	"context"
	"fmt"
)

// portTLSRoot is step 8's TLS server as root: https-alt, so that 443 stays
// free for step 10's web server.
const portTLSRoot = 8443

// stepProfile: server profiling, as the note's analyst does it. sshd on
// 22, nginx on 80 and 443 (with TLS), all interfaces: from the listeners
// alone the conclusion is "a web server, with secure communication, that
// allows remote management". The monitor draws the same profile from the
// same sockets (assess.ProfileOf). Without root the ports are high ones of
// the lab's block, and the monitor names the servers by their programs.
func stepProfile(ctx context.Context, s *scene, st *stepState) (string, string, error) {
	ssh, http, https := s.port(PortSSHHigh), s.port(PortHTTPHigh), s.port(PortHTTPSHigh)
	if s.privileged {
		ssh, http, https = 22, 80, 443
	}
	sshd, err := s.helperFor(ctx, st, progSSH, 10, "")
	if err != nil {
		return "", "", err
	}
	web, err := s.helperFor(ctx, st, progWeb, 10, "")
	if err != nil {
		return "", "", err
	}
	for _, l := range []struct {
		h    *helper
		key  string
		port int
		mode string
	}{{sshd, "ssh", ssh, "none"}, {web, "http", http, "none"}, {web, "https", https, "tls"}} {
		addr, o := s.public(l.port)
		args := append([]string{l.key, addr}, o...)
		if l.mode == "tls" {
			args = append(args, "serve=tls")
		}
		if _, err := l.h.call(ctx, "listen", args...); err != nil {
			return "", "", bindErr(err, l.port)
		}
	}
	how := fmt.Sprintf("lab-sshd (pid %d) listens on %d, lab-nginx (pid %d) on %d and %d, all interfaces. The analyst's "+
		"profile: 80 and 443, a web server with TLS; 22, SSH. The conclusion: \"a web server, with secure communication, "+
		"that allows remote management\". The monitor draws the same from the ports: see profile in the header, and R.",
		sshd.pid, ssh, web.pid, http, https)
	if !s.privileged {
		how = fmt.Sprintf("lab-sshd (pid %d) on %d, lab-nginx (pid %d) on %d and %d (TLS): high ports, as %s. "+
			"Trusting names, an analyst concludes \"a web server, with secure communication, that allows remote "+
			"management\". portwatch names no role: these ports are no registry's, and a name is not an identity. On 22, "+
			"80 and 443 (sudo, or user namespaces allowed) it draws the same.", sshd.pid, ssh, web.pid, http, https, s.noNamespace())
	}
	return how, "portwatch-lab-step-10", nil
}
