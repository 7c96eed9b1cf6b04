package assess

import "github.com/portwatch/portwatch/sockets"

// protoSet says which transports a catalog entry covers.
type protoSet uint8

const (
	onTCP  protoSet = 1
	onUDP  protoSet = 2
	onBoth protoSet = onTCP | onUDP
)

func (p protoSet) covers(proto sockets.Proto) bool {
	return (proto == sockets.TCP && p&onTCP != 0) || (proto == sockets.UDP && p&onUDP != 0)
}

// CatalogEntry is portwatch's own knowledge of a well-known port, written for
// a learner: what runs there, how risky it is and what to do about it.
type CatalogEntry struct {
	Port        uint16
	protos      protoSet
	Name        string
	Description string
	Risk        Risk
	Tags        Tag
	Note        string
	UsualUser   string // the account this service conventionally runs as, if any; several, comma-separated, where distributions differ
}

// Shorthands keep the table below readable.
const (
	info, low, med, high = RiskInfo, RiskLow, RiskMedium, RiskHigh
	clear, db, admin     = TagCleartext, TagDatabase, TagAdmin
	bd, internal, pub    = TagBackdoor, TagInternal, TagPublic
)

const backdoorNote = "Nothing legitimate is expected here: this port is a favourite default of backdoors, reverse shells and exploit kits. Identify the process and its binary at once; if you cannot explain it, isolate the machine."

// catalog is the table of well-known ports: the base table below and the
// servers' secondary and control ports (catalog_servers.go).
var catalog = withServerPorts(baseCatalog, serverPorts)

// baseCatalog is the table of well-known ports. Sources: IANA
// registrations and the vendors' documentation; the notes are ours.
var baseCatalog = []CatalogEntry{
	{1, onTCP, "tcpmux", "TCP port service multiplexer, an obsolete lookup service", low, 0, "Almost never used today; a listener here is unusual. Disable it unless you know why it exists.", ""},
	{7, onBoth, "echo", "Echo service: sends back whatever it receives", med, 0, "Useful only for testing and can be abused to amplify traffic (UDP) or fingerprint hosts. Turn it off.", ""},
	{9, onBoth, "discard", "Discard service: throws away whatever it receives", low, 0, "A legacy test service with no use in production. Disable it.", ""},
	{13, onBoth, "daytime", "Daytime service: returns the date as text", low, 0, "Legacy service that leaks the host's clock and can reflect UDP traffic. Disable it.", ""},
	{19, onBoth, "chargen", "Character generator: streams characters to any client", high, 0, "Chargen over UDP is a classic amplification weapon for DDoS attacks. It should never be enabled.", ""},
	{20, onTCP, "ftp-data", "FTP data channel (active mode)", med, clear, "FTP moves files and passwords in cleartext. Replace it with SFTP or FTPS.", ""},
	{21, onTCP, "ftp", "File Transfer Protocol control channel", high, clear, "FTP sends user names and passwords in cleartext and often allows anonymous login. Prefer SFTP over SSH; if FTP must stay, require TLS (FTPS) and disable anonymous access.", ""},
	{22, onTCP, "ssh", "Secure Shell: encrypted remote login, commands and file transfer", med, pub, "SSH is the front door of a server and is brute-forced constantly. Use keys, not passwords, disable root login, and restrict who may reach it with a firewall or VPN.", ""},
	{23, onTCP, "telnet", "Telnet: unencrypted remote login", high, clear | admin, "Telnet sends passwords and whole sessions in cleartext and is a top target of IoT botnets. Disable it and use SSH.", ""},
	{25, onTCP, "smtp", "Simple Mail Transfer Protocol: mail relay between servers", med, clear | pub, "A mail server must not relay for strangers (open relay) and should offer STARTTLS. A mail server is meant to be reached: restrict who may submit mail, not where it listens; if this machine is not a mail server, a local MTA belongs on loopback.", ""},
	{37, onBoth, "time", "Time protocol: the clock as a 32-bit number", low, 0, "Obsolete since NTP; can reflect UDP traffic. Disable it.", ""},
	{43, onTCP, "whois", "WHOIS directory lookups", low, clear, "A plain-text query service; rare on ordinary servers.", ""},
	{49, onBoth, "tacacs", "TACACS+: authentication for network devices", med, admin, "Carries device-admin logins; the classic variant obfuscates rather than encrypts. Reachable only from management networks.", ""},
	{53, onBoth, "domain", "Domain Name System: turns names into addresses", med, pub, "An open resolver reachable from the internet is abused for DNS amplification attacks. Answer recursive queries for your own networks only; a local stub resolver on 127.0.0.53 is normal.", ""},
	{67, onUDP, "bootps", "DHCP server: hands out IP addresses", med, 0, "A rogue DHCP server can redirect a whole network's traffic. Only the real DHCP server of the network should listen here.", ""},
	{68, onUDP, "bootpc", "DHCP client: receives an IP address lease", info, 0, "Normal on machines that get their address by DHCP.", ""},
	{69, onUDP, "tftp", "Trivial FTP: file transfer without authentication", high, clear, "TFTP has no login at all: anyone who can reach it can read (and sometimes write) files. Used for network boot; keep it on an isolated network.", ""},
	{70, onTCP, "gopher", "Gopher: a pre-web document protocol", low, clear, "A historical curiosity; an unexpected listener deserves a look.", ""},
	{79, onTCP, "finger", "Finger: shows who is logged in", med, clear, "Leaks user names and login times that help attackers guess accounts. Disable it.", ""},
	{80, onTCP, "http", "Hypertext Transfer Protocol: web server", med, clear | pub, "Plain HTTP is unencrypted: logins and cookies can be read on the way. Redirect to HTTPS, and keep the web server and its applications patched.", ""},
	{88, onBoth, "kerberos", "Kerberos authentication (key distribution centre)", med, admin, "The heart of an Active Directory or Kerberos realm; attacks like Kerberoasting start here. Expected on domain controllers only.", ""},
	{110, onTCP, "pop3", "Post Office Protocol 3: mailbox download", med, clear | pub, "POP3 without TLS sends the mailbox password in cleartext. Use POP3S on 995 or IMAPS instead.", ""},
	{111, onBoth, "rpcbind", "ONC RPC port mapper (portmap), used by NFS", high, admin, "rpcbind tells anyone which RPC services run and where, and has been used for DDoS reflection. Block it from untrusted networks; disable it if NFS is unused.", ""},
	{113, onTCP, "ident", "Ident: tells a remote server which user owns a connection", low, clear, "Leaks local user names; rarely needed except by some IRC servers.", ""},
	{119, onTCP, "nntp", "Network News Transfer Protocol (Usenet)", low, clear, "Rare today; use NNTPS (563) if it is needed.", ""},
	{123, onUDP, "ntp", "Network Time Protocol: keeps clocks in sync", low, 0, "Normal for time sync. A server that answers monlist queries can amplify DDoS traffic: keep it patched and restrict who may query it.", ""},
	{135, onBoth, "msrpc", "Microsoft RPC endpoint mapper", high, admin, "Windows RPC has a long history of wormable bugs. Never expose it beyond the local network.", ""},
	{137, onUDP, "netbios-ns", "NetBIOS name service", med, clear, "Leaks host and domain names and enables name-spoofing attacks. Disable NetBIOS where SMB over 445 suffices.", ""},
	{138, onUDP, "netbios-dgm", "NetBIOS datagram service", med, clear, "Legacy Windows networking; disable it if unused and never expose it to the internet.", ""},
	{139, onTCP, "netbios-ssn", "NetBIOS session service (SMB over NetBIOS)", high, 0, "File sharing over NetBIOS; the target of many worms. Keep it to the local network.", ""},
	{143, onTCP, "imap", "Internet Message Access Protocol: mailbox access", med, clear | pub, "IMAP without TLS exposes mail passwords. Require STARTTLS or use IMAPS on 993.", ""},
	{161, onUDP, "snmp", "Simple Network Management Protocol: device monitoring", high, clear | admin, "SNMP v1/v2c authenticates with a cleartext community string, often 'public', and can leak the whole configuration. Use SNMPv3 and allow only the monitoring host.", ""},
	{162, onUDP, "snmptrap", "SNMP traps: alerts sent by devices", med, clear, "Receives unauthenticated alerts in cleartext; accept them only from known devices.", ""},
	{177, onUDP, "xdmcp", "X Display Manager Control Protocol: remote graphical login", high, clear | admin, "Unencrypted remote desktops for X11; sessions and passwords can be sniffed. Disable it; tunnel X over SSH.", ""},
	{179, onTCP, "bgp", "Border Gateway Protocol: internet routing", high, admin, "A BGP session controls routing. Only the configured peers should reach it; use TCP-AO or MD5 authentication.", ""},
	{194, onTCP, "irc", "Internet Relay Chat", med, clear, "Chat in cleartext; also used by old botnets as a command channel. Unexpected on a server.", ""},
	{389, onBoth, "ldap", "Lightweight Directory Access Protocol: directory of users and groups", high, clear | admin, "Plain LDAP can carry passwords in cleartext and may allow anonymous reads of the whole directory. Require StartTLS or LDAPS (636) and disable anonymous binds.", ""},
	{427, onBoth, "svrloc", "Service Location Protocol", high, 0, "SLP has been abused for huge DDoS amplification and exploited on VMware ESXi. Disable it.", ""},
	{443, onTCP, "https", "HTTP over TLS: encrypted web server", low, pub, "The normal way to serve the web. Keep TLS settings and certificates current, and patch the applications behind it.", ""},
	{443, onUDP, "https (quic)", "HTTP/3 over QUIC", low, pub, "Encrypted web traffic over UDP; normal for HTTP/3 servers.", ""},
	{445, onTCP, "microsoft-ds", "SMB: Windows file and printer sharing (also Samba)", high, 0, "SMB was the door of WannaCry and NotPetya. Never expose it to the internet; disable SMBv1 and require signing.", ""},
	{464, onBoth, "kpasswd", "Kerberos password change", med, admin, "Part of a Kerberos realm; expected on domain controllers only.", ""},
	{465, onTCP, "smtps", "SMTP over implicit TLS (mail submission)", low, pub, "Encrypted mail submission from clients; require authentication.", ""},
	{500, onUDP, "isakmp", "IKE: key exchange for IPsec VPNs", med, admin | pub, "VPN gateways listen here; aggressive mode can leak crackable hashes. Keep the VPN software patched.", ""},
	{512, onTCP, "exec", "rexec: remote command execution", high, clear | admin, "A legacy Unix service that runs commands with a cleartext password. Disable it; use SSH.", ""},
	{513, onTCP, "login", "rlogin: remote login", high, clear | admin, "Trusts host names and sends sessions in cleartext. Disable it; use SSH.", ""},
	{514, onTCP, "rsh/syslog", "rsh remote shell (legacy), or syslog over TCP (rsyslog)", high, clear | admin, "If this is rsh, it trusts host names without passwords: disable it and use SSH. If it is a syslog receiver, it accepts forged logs from anyone who can reach it: allow only known hosts or use syslog over TLS (6514).", ""},
	{514, onUDP, "syslog", "Syslog: receives log messages", med, clear, "Accepts unauthenticated log lines from anyone who can reach it, so logs can be forged or flooded. Accept only from known hosts, or use syslog over TLS (6514).", ""},
	{515, onTCP, "printer", "LPD: line printer daemon", med, clear, "Old print protocol with a record of remote exploits. Keep it to the local network.", ""},
	{520, onUDP, "rip", "Routing Information Protocol", med, admin, "Unauthenticated RIP lets anyone inject routes. Use authentication or a better routing protocol.", ""},
	{523, onBoth, "ibm-db2", "IBM Db2 discovery service", med, db, "Reveals database instances; keep it off untrusted networks.", ""},
	{548, onTCP, "afp", "Apple Filing Protocol: Mac file sharing", med, 0, "Legacy file sharing; restrict to the local network.", ""},
	{554, onBoth, "rtsp", "Real Time Streaming Protocol: cameras and media servers", med, clear, "IP cameras expose video here, often with default passwords. Change them and keep cameras off the internet.", ""},
	{587, onTCP, "submission", "Mail submission (SMTP with STARTTLS and authentication)", low, pub, "Where mail clients send outgoing mail; require STARTTLS and authentication.", ""},
	{593, onTCP, "http-rpc-epmap", "Microsoft RPC over HTTP", high, admin, "Exposes Windows RPC through HTTP; keep it internal.", ""},
	{623, onUDP, "ipmi", "IPMI/BMC remote management", high, admin, "A server's baseboard controller: power, console, and hashes that IPMI 2.0 hands out before login. Put it on an isolated management network.", ""},
	{631, onBoth, "ipp", "Internet Printing Protocol (CUPS)", med, 0, "CUPS on all interfaces has had remote code execution bugs (cups-browsed, 2024). Bind it to loopback unless this is a print server.", ""},
	{636, onTCP, "ldaps", "LDAP over TLS", med, admin, "Encrypted directory access; still disable anonymous binds and restrict who can query.", ""},
	{853, onBoth, "domain-s", "DNS over TLS / QUIC", low, pub, "Encrypted DNS; same open-resolver cautions as port 53.", ""},
	{873, onTCP, "rsync", "rsync daemon: file synchronisation", high, clear, "An rsync daemon often serves modules without a password, in cleartext. Require auth, restrict hosts, or run rsync over SSH.", ""},
	{902, onTCP, "vmware-auth", "VMware ESXi / Workstation authentication", high, admin, "Management of virtual machines; a prized target for ransomware. Management network only.", ""},
	{989, onTCP, "ftps-data", "FTP data over TLS", low, 0, "Encrypted FTP; prefer SFTP where you can.", ""},
	{990, onTCP, "ftps", "FTP control over TLS", low, 0, "Encrypted FTP; disable anonymous access.", ""},
	{993, onTCP, "imaps", "IMAP over TLS", low, pub, "Encrypted mailbox access; the right way to serve IMAP.", ""},
	{995, onTCP, "pop3s", "POP3 over TLS", low, pub, "Encrypted mailbox download; the right way to serve POP3.", ""},
	{1080, onTCP, "socks", "SOCKS proxy", high, 0, "An open proxy lets strangers route attacks through you; malware also runs SOCKS proxies. Require auth and restrict clients.", ""},
	{1194, onBoth, "openvpn", "OpenVPN", low, admin | pub, "A VPN endpoint; keep it patched and use certificates.", ""},
	{1337, onBoth, "leet", "'leet' port: used by backdoors and hacking tools", high, bd, backdoorNote, ""},
	{1433, onTCP, "ms-sql-s", "Microsoft SQL Server", high, db, "A database exposed to the network is brute-forced for the 'sa' account. Allow only the application servers; never the internet.", "mssql"},
	{1434, onUDP, "ms-sql-m", "SQL Server browser service", med, db, "Reveals SQL Server instances (and was the door of the Slammer worm). Block it from untrusted networks.", ""},
	{1521, onTCP, "oracle", "Oracle database listener (TNS)", high, db, "A database listener; restrict it to application servers and protect it with a listener password.", "oracle"},
	{1723, onTCP, "pptp", "PPTP VPN", high, 0, "PPTP's encryption is broken. Replace it with WireGuard, OpenVPN or IPsec.", ""},
	{1883, onTCP, "mqtt", "MQTT message broker (IoT)", high, clear | db, "Brokers often allow anonymous clients in cleartext, letting anyone read and command devices. Require auth and use MQTT over TLS (8883).", ""},
	{1900, onUDP, "ssdp", "SSDP / UPnP discovery", med, 0, "UPnP lets devices open firewall ports and SSDP is abused for amplification. Disable UPnP on servers and routers.", ""},
	{2049, onBoth, "nfs", "Network File System", high, 0, "NFS exports trust client IP addresses and user ids. Export to specific hosts only and never to the internet.", ""},
	{2082, onTCP, "cpanel", "cPanel web hosting control panel", high, clear | admin, "Hosting control panel over plain HTTP; use the TLS port (2083) and restrict access.", ""},
	{2083, onTCP, "cpanel-ssl", "cPanel over TLS", med, admin, "A control panel: restrict who may reach it and use strong passwords with 2FA.", ""},
	{2181, onTCP, "zookeeper", "Apache ZooKeeper coordination service", high, db | internal, "ZooKeeper often has no authentication and holds cluster configuration. Keep it on the cluster network.", ""},
	{2222, onTCP, "ssh-alt", "Common alternative SSH port (also some appliances)", med, 0, "Moving SSH off 22 cuts noise, not risk: the same hardening applies. If you did not set this up, find out what it is.", ""},
	{2375, onTCP, "docker", "Docker Engine API without TLS", high, admin | clear, "Whoever reaches this API is root on the host: it can start a privileged container. Never expose it; use the Unix socket or TLS on 2376 with client certificates.", ""},
	{2376, onTCP, "docker-s", "Docker Engine API over TLS", high, admin, "Root-equivalent control of the host; require client certificates and restrict to admins.", ""},
	{2379, onTCP, "etcd-client", "etcd key-value store (client API): Kubernetes' database", high, db | admin | internal, "etcd holds every Kubernetes secret. It must require client certificates and be reachable only by the API servers.", "etcd"},
	{2380, onTCP, "etcd-server", "etcd peer traffic between cluster members", high, internal, "Only other etcd members should reach it; require peer TLS.", "etcd"},
	{3000, onTCP, "dev-http", "Common port of development web servers and Grafana", med, clear, "Development servers are not hardened and often run with debug features on. Bind them to 127.0.0.1.", ""},
	{3128, onTCP, "squid", "Squid HTTP proxy", med, 0, "An open proxy lets strangers browse and attack through you. Restrict clients.", "proxy"},
	{3260, onTCP, "iscsi", "iSCSI block storage", high, 0, "Raw disks over the network; use CHAP and a storage network.", ""},
	{3306, onTCP, "mysql", "MySQL / MariaDB database", high, db, "A database on the network is brute-forced and exploited. Bind it to 127.0.0.1 (bind-address) unless remote clients need it, then firewall it to them.", "mysql"},
	{3389, onBoth, "ms-wbt-server", "Remote Desktop Protocol (also xrdp)", high, admin, "RDP is among the most attacked services on the internet (BlueKeep, brute force). Put it behind a VPN and require NLA.", ""},
	{3478, onBoth, "stun", "STUN/TURN for WebRTC NAT traversal", low, 0, "A TURN server can be abused as a relay; require credentials.", ""},
	{4369, onTCP, "epmd", "Erlang port mapper (RabbitMQ, CouchDB clusters)", high, internal, "Lists Erlang nodes; together with a weak cookie it gives remote code execution. Keep it on the cluster network.", ""},
	{4444, onBoth, "metasploit", "Metasploit's default listener port; also some worms", high, bd, backdoorNote, ""},
	{4505, onTCP, "salt-master", "SaltStack master publish port", high, admin, "Salt masters command every minion; CVE-2020-11651 gave remote root. Restrict to minions and patch.", ""},
	{4506, onTCP, "salt-master-ret", "SaltStack master return port", high, admin, "See 4505: restrict to minions and patch.", ""},
	{5000, onTCP, "dev-http", "Flask and other development servers; Docker registry; UPnP", med, clear, "Often a development server or a registry without auth. Bind it to loopback or require auth.", ""},
	{5060, onBoth, "sip", "Session Initiation Protocol: VoIP signalling", med, clear, "SIP servers are scanned constantly for toll fraud. Require strong passwords and restrict who may register.", ""},
	{5061, onTCP, "sips", "SIP over TLS", low, 0, "Encrypted VoIP signalling.", ""},
	{5353, onUDP, "mdns", "Multicast DNS (Avahi, Bonjour)", low, 0, "Announces this machine's services to the local network. Normal on desktops; disable it on servers.", ""},
	{5355, onUDP, "llmnr", "Link-Local Multicast Name Resolution", med, 0, "LLMNR answers can be spoofed to steal Windows hashes (Responder). Disable it where DNS works.", ""},
	{5432, onTCP, "postgresql", "PostgreSQL database", high, db, "A database on the network is brute-forced and exploited. Set listen_addresses to localhost unless remote clients need it, and allow them only in pg_hba.conf.", "postgres"},
	{5555, onTCP, "adb", "Android Debug Bridge over TCP", high, admin | bd, "ADB gives a shell on the device without a password; worms spread through it. Turn network ADB off.", ""},
	{5601, onTCP, "kibana", "Kibana dashboard for Elasticsearch", high, admin, "Exposes all indexed data and had remote code execution bugs. Require login and keep it internal.", ""},
	{5631, onTCP, "pcanywhere", "pcAnywhere remote control", high, admin, "Obsolete remote control software with known flaws. Remove it.", ""},
	{5666, onTCP, "nrpe", "Nagios remote plugin executor", med, admin, "Runs monitoring commands on request; allow only the monitoring server.", "nagios"},
	{5672, onTCP, "amqp", "AMQP message broker (RabbitMQ)", high, db, "A message broker with a default guest account in old versions. Require credentials and TLS (5671) and keep it internal.", "rabbitmq"},
	{5800, onTCP, "vnc-http", "VNC over HTTP (Java viewer)", high, clear | admin, "Remote desktop through the browser, often unencrypted. Tunnel it over SSH or a VPN.", ""},
	{5900, onTCP, "vnc", "Virtual Network Computing: remote desktop", high, clear | admin, "VNC often uses weak passwords (8 characters at most) and no encryption. Bind it to loopback and tunnel over SSH.", ""},
	{5901, onTCP, "vnc-1", "VNC display :1", high, clear | admin, "Remote desktop; bind to loopback and tunnel over SSH.", ""},
	{5984, onTCP, "couchdb", "Apache CouchDB database (HTTP API)", high, db | clear, "Old CouchDB allowed anyone to be admin ('admin party') and had remote code execution. Require auth and bind it to loopback.", "couchdb"},
	{5985, onTCP, "wsman", "Windows Remote Management over HTTP", high, admin, "PowerShell remoting: a shell for whoever logs in. Keep it on a management network.", ""},
	{5986, onTCP, "wsmans", "Windows Remote Management over HTTPS", high, admin, "PowerShell remoting over TLS; restrict to administrators.", ""},
	{6000, onTCP, "x11", "X Window System display server", high, clear | admin, "An open X server lets anyone capture the screen and keystrokes. Never listen on TCP; forward X over SSH.", ""},
	{6379, onTCP, "redis", "Redis in-memory data store", high, db, "Redis has no password by default and a reachable one is taken over within hours (it can write files and run code). Bind it to 127.0.0.1 and set protected-mode and a password.", "redis"},
	{6443, onTCP, "kube-apiserver", "Kubernetes API server", high, admin, "The control plane of the whole cluster. Disable anonymous auth, use RBAC, and restrict network access.", ""},
	{6660, onTCP, "irc-6660", "IRC (alternative port); also botnet command channels", med, clear | bd, "IRC servers are rare on servers; IRC is a classic botnet command channel. Find out what this is.", ""},
	{6666, onTCP, "irc-6666", "IRC alternative port; used by botnets and some trojans", high, clear | bd, backdoorNote, ""},
	{6667, onTCP, "irc", "Internet Relay Chat (default plain port)", high, clear | bd, "A cleartext chat server, and the classic command-and-control channel of botnets. Unexpected on a server: identify the process.", ""},
	{6697, onTCP, "ircs", "IRC over TLS", med, 0, "Encrypted chat; still unusual on a server.", ""},
	{7001, onTCP, "weblogic", "Oracle WebLogic server", high, admin, "WebLogic has had many unauthenticated remote code execution bugs. Patch it and keep the console internal.", ""},
	{7077, onTCP, "spark-master", "Apache Spark master", high, admin | internal, "An unauthenticated Spark master runs any job submitted to it. Keep it on the cluster network.", ""},
	{8000, onTCP, "http-alt", "Alternative HTTP port (development servers, admin consoles)", med, clear, "Often a development server or admin console without TLS. Bind to loopback or put it behind a TLS proxy.", ""},
	{8008, onTCP, "http-alt-2", "Alternative HTTP port", med, clear, "Plain HTTP on a non-standard port; find out what serves it.", ""},
	{8009, onTCP, "ajp13", "Apache JServ Protocol (Tomcat connector)", high, 0, "AJP trusts whoever speaks it (Ghostcat, CVE-2020-1938). Bind it to loopback or disable it.", ""},
	{8080, onTCP, "http-proxy", "Alternative HTTP: proxies, Tomcat, Jenkins, app servers", med, clear, "Plain HTTP, often for an application server or its admin console. Put it behind HTTPS and bind it to loopback if a proxy fronts it.", ""},
	{8081, onTCP, "http-alt-3", "Alternative HTTP (Nexus, proxies, dev servers)", med, clear, "Plain HTTP on a non-standard port; find out what serves it.", ""},
	{8086, onTCP, "influxdb", "InfluxDB time-series database", high, db, "Often runs without auth. Require credentials and keep it internal.", "influxdb"},
	{8088, onTCP, "hadoop-yarn", "Hadoop YARN ResourceManager", high, admin | internal, "An open YARN API runs anyone's jobs (cryptominers love it). Enable Kerberos and keep it internal.", ""},
	{8333, onTCP, "bitcoin", "Bitcoin peer-to-peer", med, 0, "A cryptocurrency node; unexpected on most servers (miners are a common compromise).", ""},
	{8443, onTCP, "https-alt", "Alternative HTTPS port (admin consoles, app servers)", low, admin, "Often an admin console over TLS; restrict who may reach it.", ""},
	{8500, onTCP, "consul", "HashiCorp Consul HTTP API", high, admin | internal, "Consul's API can register scripts that run on agents. Enable ACLs and keep it internal.", ""},
	{8883, onTCP, "secure-mqtt", "MQTT over TLS", med, db, "Encrypted broker; still require client authentication.", ""},
	{8888, onTCP, "http-alt-4", "Jupyter notebooks and development servers", high, clear | admin, "A Jupyter server runs code for whoever has the token or no token at all. Bind it to loopback and keep a token.", ""},
	{9000, onTCP, "http-9000", "PHP-FPM, SonarQube, Portainer, MinIO and others", med, 0, "PHP-FPM here must never be reachable from outside: it runs PHP for anyone. Bind it to loopback.", ""},
	{9042, onTCP, "cassandra", "Apache Cassandra native protocol", high, db, "A database; enable authentication (off by default) and keep it internal.", "cassandra"},
	{9090, onTCP, "prometheus", "Prometheus server (also Cockpit on some systems)", med, admin, "Prometheus has no auth by default and reveals the whole infrastructure's metrics and targets. Keep it internal or behind a login.", "prometheus"},
	{9092, onTCP, "kafka", "Apache Kafka broker", high, db | internal, "A broker without SASL lets anyone read and write topics. Enable auth and TLS.", "kafka"},
	{9100, onTCP, "node-exporter", "Prometheus node exporter (also raw printing, JetDirect)", med, 0, "Exposes detailed host metrics to anyone; restrict it to the Prometheus server.", ""},
	{9200, onTCP, "elasticsearch", "Elasticsearch REST API", high, db | clear, "Elasticsearch without security exposed millions of records in public leaks. Enable security (auth and TLS) and keep it internal.", "elasticsearch"},
	{9300, onTCP, "elasticsearch-transport", "Elasticsearch node-to-node transport", high, internal, "Cluster traffic; only other nodes should reach it.", "elasticsearch"},
	{9418, onTCP, "git", "Git daemon (read-only, unauthenticated)", med, clear, "Serves repositories to anyone without authentication. Make sure only public repositories are exported.", ""},
	{9999, onTCP, "abyss", "Various admin consoles; a common backdoor default", med, bd, "A port favoured by some backdoors and admin consoles. Identify the process.", ""},
	{10000, onTCP, "webmin", "Webmin web administration", high, admin, "Root-level web administration with a history of backdoored releases. Restrict it to administrators' addresses.", ""},
	{10250, onTCP, "kubelet", "Kubernetes kubelet API", high, admin, "An anonymous kubelet API runs commands in every pod of the node. Disable anonymous auth and restrict it to the API server.", ""},
	{10255, onTCP, "kubelet-ro", "Kubernetes kubelet read-only API", med, admin, "Leaks pod specs and secrets' names without auth; disable it (readOnlyPort: 0).", ""},
	{11211, onBoth, "memcache", "Memcached cache", high, db, "Memcached has no authentication, leaks cached data and over UDP amplified record DDoS attacks. Bind it to 127.0.0.1 and disable UDP.", "memcache"},
	{12345, onTCP, "netbus", "NetBus trojan's port; also some test servers", high, bd, backdoorNote, ""},
	{15672, onTCP, "rabbitmq-mgmt", "RabbitMQ management web UI", high, admin, "The broker's admin console; the old guest/guest account must be gone. Keep it internal.", "rabbitmq"},
	{20000, onTCP, "usermin/dnp3", "Usermin or DNP3 (industrial control)", high, admin, "Either a web admin tool or an industrial control protocol: neither belongs on the internet.", ""},
	{25565, onTCP, "minecraft", "Minecraft game server", low, 0, "A game server; fine if intended, suspicious on a production server.", ""},
	{27017, onTCP, "mongodb", "MongoDB database", high, db, "Unauthenticated MongoDB instances were wiped and ransomed by the tens of thousands. Enable authorization and bind to 127.0.0.1.", "mongodb"},
	{27018, onTCP, "mongodb-shard", "MongoDB shard server", high, db | internal, "Cluster traffic; enable auth and keep it internal.", "mongodb"},
	{31337, onBoth, "back-orifice", "Back Orifice trojan's port; 'elite' port of hacking tools", high, bd, backdoorNote, ""},
	{50000, onTCP, "sap/jenkins", "SAP services; Jenkins inbound agents", med, admin, "Management traffic for SAP or Jenkins agents; keep it internal.", ""},
	{51820, onUDP, "wireguard", "WireGuard VPN", low, pub, "A modern VPN; silent to anyone without a key. Normal on VPN hosts.", ""},
	{54321, onBoth, "bo2k", "Used by several trojans (School Bus, Back Orifice 2000)", high, bd, backdoorNote, ""},
}
