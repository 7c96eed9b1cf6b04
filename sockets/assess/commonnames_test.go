package assess

import (
	"testing"

	"github.com/portwatch/portwatch/sockets"
)

// The note's common ports, named as the exam names them, from the
// registry name portwatch's own catalog gives each.
func TestCommonNamesOfTheNotesPorts(t *testing.T) {
	kb := NewKnowledge("/nonexistent/services", "/nonexistent/range")
	for _, c := range []struct {
		proto sockets.Proto
		port  uint16
		want  string
	}{
		{sockets.TCP, 20, "FTP data"}, {sockets.TCP, 21, "FTP"}, {sockets.TCP, 22, "SSH"}, {sockets.TCP, 23, "Telnet"},
		{sockets.TCP, 25, "SMTP"}, {sockets.TCP, 53, "DNS"}, {sockets.UDP, 53, "DNS"}, {sockets.UDP, 67, "DHCP"},
		{sockets.UDP, 69, "TFTP"}, {sockets.TCP, 80, "HTTP"}, {sockets.TCP, 110, "POP3"}, {sockets.UDP, 123, "NTP"},
		{sockets.TCP, 143, "IMAP"}, {sockets.UDP, 161, "SNMP"}, {sockets.TCP, 443, "HTTPS"}, {sockets.TCP, 445, "SMB"},
		{sockets.TCP, 3306, "MySQL"}, {sockets.TCP, 3389, "RDP"},
	} {
		name := kb.Lookup(c.proto, c.port).Name
		if got := CommonName(name); got != c.want {
			t.Errorf("%d/%s is %q: common name %q, want %q", c.port, c.proto, name, got, c.want)
		}
	}
	if got := CommonName("no-such-service"); got != "" {
		t.Errorf("an unknown service has the common name %q", got)
	}
}

func TestServiceLabelAddsOnlyWhatDiffers(t *testing.T) {
	for name, want := range map[string]string{
		"domain": "domain (DNS)", "ms-wbt-server": "ms-wbt-server (RDP)", "microsoft-ds": "microsoft-ds (SMB)",
		"ssh": "ssh", "mysql": "mysql", "unknown": "unknown", "http-proxy": "http-proxy", "memcache": "memcache",
		"ftp-data": "ftp-data", "netbios-ssn": "netbios-ssn (SMB)",
	} {
		if got := ServiceLabel(name); got != want {
			t.Errorf("ServiceLabel(%q) = %q, want %q", name, got, want)
		}
	}
}

func TestRoleOfNamesTheProfilesRoles(t *testing.T) {
	for svc, want := range map[string]string{"https": "web server", "ssh": "remote administration", "redis": "database", "back-orifice": ""} {
		if got := RoleOf(svc); got != want {
			t.Errorf("RoleOf(%q) = %q, want %q", svc, got, want)
		}
	}
}
