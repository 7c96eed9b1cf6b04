package assess

import "strings"

// The names an analyst and an exam use for a service are not always the
// registry's: IANA and /etc/services say "domain" and "ms-wbt-server"
// where the CyberOps note and every exam say DNS and RDP. Screens show
// both, so that a student learns the registry's word beside the one they
// know.

// commonNames maps a registry (or catalog) service name to its common name.
var commonNames = map[string]string{
	"ftp": "FTP", "ftp-data": "FTP data", "ftps": "FTPS", "ftps-data": "FTPS data", "tftp": "TFTP",
	"ssh": "SSH", "ssh-alt": "SSH", "telnet": "Telnet",
	"smtp": "SMTP", "submission": "SMTP", "smtps": "SMTPS",
	"pop3": "POP3", "pop3s": "POP3S", "imap": "IMAP", "imaps": "IMAPS",
	"domain": "DNS", "domain-s": "DNS over TLS", "mdns": "mDNS", "llmnr": "LLMNR",
	"bootps": "DHCP", "bootpc": "DHCP client",
	"http": "HTTP", "https": "HTTPS", "https (quic)": "HTTPS", "http-alt": "HTTP", "http-alt-2": "HTTP",
	"http-alt-3": "HTTP", "http-alt-4": "HTTP", "http-proxy": "HTTP", "https-alt": "HTTPS",
	"ntp": "NTP", "snmp": "SNMP", "snmptrap": "SNMP trap",
	"netbios-ns": "NetBIOS", "netbios-dgm": "NetBIOS", "netbios-ssn": "SMB", "microsoft-ds": "SMB",
	"msrpc": "MS RPC", "ms-wbt-server": "RDP", "vnc": "VNC", "vnc-1": "VNC", "vnc-http": "VNC",
	"ldap": "LDAP", "ldaps": "LDAPS", "kerberos": "Kerberos",
	"mysql": "MySQL", "postgresql": "PostgreSQL", "ms-sql-s": "MS SQL", "ms-sql-m": "MS SQL browser",
	"oracle": "Oracle DB", "redis": "Redis", "mongodb": "MongoDB", "memcache": "Memcached",
	"isakmp": "IKE/IPsec", "openvpn": "OpenVPN", "wireguard": "WireGuard", "pptp": "PPTP",
	"syslog": "Syslog", "rpcbind": "RPC", "nfs": "NFS", "sip": "SIP", "sips": "SIPS",
	"irc": "IRC", "ipmi": "IPMI", "ipp": "IPP", "x11": "X11",
}

// CommonName is the name an analyst or an exam gives the service the
// registry calls registryName ("domain": "DNS", "ms-wbt-server": "RDP"),
// or "" where portwatch knows none.
func CommonName(registryName string) string {
	return commonNames[registryName]
}

// ServiceLabel is a service's registry name with its common name beside it
// where the common name says something the registry's does not: "domain
// (DNS)", "ms-wbt-server (RDP)", but "ssh", "mysql" and "http-proxy" (the
// registry name already begins with HTTP) as they are.
func ServiceLabel(registryName string) string {
	c := CommonName(registryName)
	if c == "" {
		return registryName
	}
	first, _, _ := strings.Cut(strings.ToLower(c), " ")
	reg := strings.ToLower(registryName)
	if strings.HasPrefix(reg, first) || strings.HasPrefix(first, reg) {
		return registryName
	}
	return registryName + " (" + c + ")"
}

// RoleOf is the server-profiling role (profile.go) a service shows, "web
// server" for "https", or "" when it shows none: the words the profile
// draws its conclusion with.
func RoleOf(serviceName string) string {
	if i, ok := roleIndex[serviceName]; ok {
		return roleDefs[i].name
	}
	return ""
}
