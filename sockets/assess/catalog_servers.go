package assess

import "github.com/portwatch/portwatch/sockets"

// The wider catalog: the server programs of the most-installed server
// packages, with their secondary and control ports. The list follows
// Debian's popularity contest (popcon.debian.org, "by_inst", the packages
// of the sections net, mail, web, database, httpd, admin and java that run
// a daemon) and the @server and @web-server package groups of RHEL 9
// (comps); ports and settings are from each project's own documentation.

// serverPorts are the catalog's ports beyond baseCatalog: a port already
// there is replaced by the entry here.
var serverPorts = []CatalogEntry{
	// DNS servers' control channels: named "domain" before, and as grave as an admin console.
	{953, onTCP, "rndc", "BIND's remote control channel (rndc)", high, admin, "rndc stops, reloads and reconfigures named; it must answer on 127.0.0.1 only (named.conf's controls statement) and use a key.", "bind"},
	{8953, onTCP, "unbound-control", "Unbound's remote control channel", high, admin, "unbound-control reconfigures and flushes the resolver; keep control-interface on 127.0.0.1 with its TLS keys.", "unbound"},
	{5199, onTCP, "dnsdist-console", "dnsdist's console", high, admin, "The console runs Lua in the load balancer; keep it on loopback with a key.", ""},
	// Tor.
	{9050, onTCP, "tor-socks", "Tor's SOCKS proxy", med, internal, "Anyone who reaches Tor's SOCKS port uses your Tor client (and its exit's identity). Keep SocksPort on 127.0.0.1.", "debian-tor"},
	{9051, onTCP, "tor-control", "Tor's control port", high, admin, "The control port reconfigures Tor and can reveal its circuits; keep it on 127.0.0.1 with cookie or password authentication.", "debian-tor"},
	{9150, onTCP, "tor-browser-socks", "Tor Browser's SOCKS proxy", med, internal, "Tor Browser's own proxy; it belongs on loopback.", ""},
	{9001, onTCP, "tor-orport", "Tor relay's onion routing port", low, pub, "A Tor relay is meant to be reached here; fine on a relay, odd anywhere else.", "debian-tor"},
	// Erlang.
	{25672, onTCP, "erlang-dist", "Erlang distribution port (RabbitMQ's inter-node)", high, internal, "Whoever reaches the distribution port with the cluster's cookie runs code on the node. Keep it on the cluster network.", "rabbitmq"},
	// Java application servers.
	{8005, onTCP, "tomcat-shutdown", "Tomcat's shutdown port", high, admin, "Anyone reaching it who sends the shutdown word stops Tomcat. It must stay on 127.0.0.1 (the default), or be switched off (port=\"-1\").", "tomcat"},
	{9990, onTCP, "wildfly-admin", "WildFly / JBoss management console", high, admin, "The management interface deploys code to the server; bind it to 127.0.0.1 (jboss.bind.address.management) and firewall it.", "wildfly"},
	{9993, onTCP, "wildfly-admin-tls", "WildFly / JBoss management console over TLS", high, admin, "The management interface deploys code to the server; keep it on the management network.", "wildfly"},
	{4848, onTCP, "glassfish-admin", "GlassFish / Payara admin console", high, admin, "The admin console deploys code; keep it on the management network with secure admin on.", ""},
	{7199, onTCP, "cassandra-jmx", "Cassandra's JMX port", high, admin, "JMX without auth runs code in the JVM; keep it on 127.0.0.1 (LOCAL_JMX=yes).", "cassandra"},
	{7000, onTCP, "cassandra-internode", "Cassandra inter-node traffic", high, internal, "Cluster traffic; only other nodes should reach it.", "cassandra"},
	{8983, onTCP, "solr", "Apache Solr search server", high, db | clear, "Solr's admin API has had remote code execution flaws; enable authentication and keep it internal.", "solr"},
	{61616, onTCP, "activemq", "ActiveMQ OpenWire broker", high, db, "ActiveMQ's OpenWire port had remote code execution (CVE-2023-46604); keep it internal and patched.", "activemq"},
	{8161, onTCP, "activemq-console", "ActiveMQ web console", high, admin, "The broker's admin console (admin/admin by default); keep it internal.", "activemq"},
	// HTTP caches and proxies, and their admin ports.
	{3130, onUDP, "squid-icp", "Squid's ICP port (cache peers)", low, internal, "Cache-to-cache queries; only peer caches should reach it.", "proxy"},
	{3401, onUDP, "squid-snmp", "Squid's SNMP agent", med, admin | clear, "Cache statistics over SNMP; restrict it to the monitoring host.", "proxy"},
	{6081, onTCP, "varnish", "Varnish HTTP cache", med, clear | pub, "A web cache meant to be reached by clients or the load balancer in front of it.", "varnish,vcache"},
	{6082, onTCP, "varnish-admin", "Varnish management port (varnishadm)", high, admin, "The CLI changes Varnish's configuration and code (VCL); keep -T on localhost with the secret file.", "varnish,vcache"},
	{8404, onTCP, "haproxy-stats", "HAProxy statistics page (common setting)", med, admin, "The stats page shows every backend and can switch them off; restrict it and require a password.", "haproxy"},
	// NFS's helpers on the ports distributions fix for firewalls.
	{662, onBoth, "nfs-statd", "NFS status monitor (rpc.statd, fixed port)", med, internal | pub, "Part of NFS file locking: the NFS clients and servers must reach it, and only they should (a firewall rule for them).", "statd"},
	{20048, onBoth, "nfs-mountd", "NFS mount daemon (rpc.mountd)", med, internal | pub, "Hands out NFS file handles to clients that may mount: the exports' clients must reach it, and only they should (a firewall rule for them).", ""},
	// Mail helpers.
	{4190, onTCP, "managesieve", "ManageSieve: mail filter upload", low, pub, "Mail users upload filters here with their mail password; require TLS.", ""},
	{783, onTCP, "spamd", "SpamAssassin daemon", med, internal, "Checks mail for the local MTA; it belongs on loopback.", ""},
	{3310, onTCP, "clamd", "ClamAV daemon", med, internal, "Scans files for the local MTA or proxy; keep it on loopback or a unix socket.", "clamav"},
	{8891, onTCP, "opendkim", "OpenDKIM milter (common setting)", low, internal, "Signs mail for the local MTA; it belongs on loopback.", "opendkim"},
	{10024, onTCP, "amavis", "amavisd-new content filter", low, internal, "The MTA's content filter; it belongs on loopback.", "amavis"},
	// Monitoring and management agents.
	{10050, onTCP, "zabbix-agent", "Zabbix agent", med, admin, "Answers the Zabbix server; restrict Server= to it and never enable remote commands for strangers.", "zabbix"},
	{10051, onTCP, "zabbix-server", "Zabbix server trapper", med, admin, "Receives agents' data; keep it on the monitoring network.", "zabbix"},
	{4949, onTCP, "munin", "Munin node", med, admin | clear, "Tells whoever asks everything about the host; allow only the Munin master (allow in munin-node.conf).", "munin"},
	{9093, onTCP, "alertmanager", "Prometheus Alertmanager", med, admin, "Silences and alerts for anyone who reaches it; keep it internal.", "prometheus"},
	{199, onTCP, "smux", "SNMP multiplexer (snmpd's agentx/smux)", med, admin, "snmpd's sub-agent protocol; keep it on loopback.", "Debian-snmp"},
	{16509, onTCP, "libvirt", "libvirt daemon (TCP, no TLS)", high, admin, "Whoever reaches libvirt manages every virtual machine; use TLS (16514) or SSH, never plain TCP.", ""},
	{16514, onTCP, "libvirt-tls", "libvirt daemon over TLS", med, admin, "Manages every virtual machine; keep it on the management network.", ""},
	{8200, onTCP, "vault", "HashiCorp Vault API", med, admin, "The secrets store's API; keep it behind TLS and on the networks that need it.", "vault"},
	{4646, onTCP, "nomad", "HashiCorp Nomad API", high, admin, "Runs jobs on the cluster; enable ACLs and keep it internal.", "nomad"},
	{8300, onTCP, "consul-server", "Consul server RPC", high, internal, "Cluster traffic; only Consul agents should reach it.", "consul"},
	{8301, onBoth, "consul-lan", "Consul LAN gossip", med, internal, "Cluster gossip; enable encryption and keep it on the cluster network.", "consul"},
	// Databases and brokers.
	{6432, onTCP, "pgbouncer", "PgBouncer connection pooler", high, db, "Speaks PostgreSQL to its clients; bind it to loopback or the application network.", "postgres"},
	{6032, onTCP, "proxysql-admin", "ProxySQL admin interface", high, admin, "admin/admin by default; keep it on 127.0.0.1.", "proxysql"},
	{8123, onTCP, "clickhouse-http", "ClickHouse HTTP interface", high, db | clear, "The default user has no password; bind it to loopback or require passwords.", "clickhouse"},
	{4222, onTCP, "nats", "NATS message broker", high, db, "A broker without auth lets anyone publish and read; enable authorization.", ""},
	{7687, onTCP, "neo4j-bolt", "Neo4j Bolt protocol", high, db, "Graph database access; bind to loopback or require auth.", "neo4j"},
	// Others of popcon's top server packages.
	{5038, onTCP, "asterisk-ami", "Asterisk Manager Interface", high, admin | clear, "Controls calls and runs commands; keep it on loopback with strong secrets.", "asterisk"},
	{3690, onTCP, "svnserve", "Subversion server", med, clear, "Serves repositories, often without encryption; require authentication.", ""},
	{24007, onTCP, "glusterd", "GlusterFS management daemon", high, internal, "Cluster storage management; only peers should reach it.", ""},
	{2601, onTCP, "frr-zebra", "FRRouting/Quagga vty (zebra)", high, admin | clear, "The router's configuration shell; keep it on loopback.", "frr"},
	{2605, onTCP, "frr-bgpd", "FRRouting/Quagga vty (bgpd)", high, admin | clear, "The BGP daemon's configuration shell; keep it on loopback.", "frr"},
	{1812, onUDP, "radius", "RADIUS authentication", med, admin | pub, "Network access servers send logins here; accept only the clients in clients.conf, with strong secrets.", "freerad"},
	{1813, onUDP, "radius-acct", "RADIUS accounting", med, admin | pub, "Accounting from network access servers; accept only known clients.", "freerad"},
	{18120, onUDP, "radius-status", "FreeRADIUS status server", med, admin, "Statistics of the RADIUS server; keep it on loopback.", "freerad"},
	{4500, onUDP, "ipsec-nat-t", "IPsec NAT traversal", med, admin | pub, "The VPN's traffic behind NAT; normal on VPN gateways.", ""},
	{1701, onUDP, "l2tp", "L2TP VPN", med, pub, "L2TP carries a VPN (with IPsec for encryption); meant to be reached on VPN gateways.", ""},
	{3478, onBoth, "stun", "STUN/TURN (coturn): NAT traversal for calls", low, pub, "Meant to be reached by call clients; a TURN server without auth relays for anyone.", "turnserver"},
	{1883, onTCP, "mqtt", "MQTT broker (mosquitto)", high, db | clear, "MQTT without TLS or auth lets anyone read and publish device messages. Require auth, use 8883 for TLS.", "mosquitto"},
	{6697, onTCP, "ircs", "IRC over TLS", low, pub, "An IRC server's TLS port, meant to be reached on an IRC server.", "irc"},
	{7000, onUDP, "afs3-fileserver", "AFS file server", med, internal, "Distributed file system traffic.", ""},
}

// withServerPorts adds the servers' ports to the base table; an entry for
// a port (and protocol) already there replaces it, so the wider knowledge
// wins.
func withServerPorts(base, more []CatalogEntry) []CatalogEntry {
	out := append([]CatalogEntry(nil), base...)
	for _, e := range more {
		replaced := false
		for i := range out {
			if out[i].Port == e.Port && out[i].protos == e.protos {
				out[i], replaced = e, true
				break
			}
		}
		if !replaced {
			out = append(out, e)
		}
	}
	return out
}

// serverPrograms are the catalog's server programs beyond basePrograms,
// recognised by executable (and, for a JVM or an Erlang VM, by the main
// class or application on the command line).
var serverPrograms = []program{
	// DNS (named's and unbound's control channels are in basePrograms).
	{name: "pdns_server", exes: []string{"pdns_server"}, port: 53, proto: sockets.UDP, also: []uint16{8081}},
	{name: "pdns_recursor", exes: []string{"pdns_recursor"}, port: 53, proto: sockets.UDP},
	{name: "knotd", exes: []string{"knotd"}, port: 53, proto: sockets.UDP, also: []uint16{853}},
	{name: "nsd", exes: []string{"nsd"}, port: 53, proto: sockets.UDP, also: []uint16{8952}},
	{name: "dnsdist", exes: []string{"dnsdist"}, port: 53, proto: sockets.UDP, also: []uint16{5199, 853, 443}},
	// Tor.
	{name: "tor", exes: []string{"tor"}, port: 9050, proto: sockets.TCP, also: []uint16{9051, 9001, 9030, 9150}},
	// Erlang: RabbitMQ, CouchDB, then any node's distribution port.
	{name: "epmd", exes: []string{"epmd"}, port: 4369, proto: sockets.TCP},
	{name: "rabbitmq", exes: []string{"beam.smp", "beam"}, args: []string{"rabbit"}, port: 5672, proto: sockets.TCP, also: []uint16{5671, 15672, 15671, 25672, 1883, 61613}},
	{name: "couchdb", exes: []string{"beam.smp", "beam"}, args: []string{"couchdb"}, port: 5984, proto: sockets.TCP, also: []uint16{6984}},
	{name: "erlang", exes: []string{"beam.smp", "beam"}, dynamic: true, own: &CatalogEntry{Name: "erlang-dist", Risk: RiskHigh, Tags: TagInternal,
		Description: "an Erlang node (its distribution port, or a service of its application)",
		Note:        "An Erlang node's distribution port runs code for whoever holds the cluster's cookie. Keep it on the cluster network (inet_dist_use_interface), and know which application this node runs."}},
	// Java application servers and JVM services, by main class.
	{name: "tomcat", exes: []string{"java"}, args: []string{"org.apache.catalina.startup.Bootstrap"}, port: 8080, proto: sockets.TCP, also: []uint16{8005, 8009, 8443}, web: true},
	{name: "jetty", exes: []string{"java"}, args: []string{"jetty"}, port: 8080, proto: sockets.TCP, also: []uint16{8443}, web: true},
	{name: "wildfly", exes: []string{"java"}, args: []string{"org.jboss.modules"}, port: 8080, proto: sockets.TCP, also: []uint16{8443, 9990, 9993}, web: true},
	{name: "jenkins", exes: []string{"java"}, args: []string{"jenkins.war"}, port: 8080, proto: sockets.TCP, also: []uint16{50000}, web: true},
	{name: "kafka", exes: []string{"java"}, args: []string{"kafka.Kafka"}, port: 9092, proto: sockets.TCP},
	{name: "zookeeper", exes: []string{"java"}, args: []string{"org.apache.zookeeper.server"}, port: 2181, proto: sockets.TCP},
	{name: "cassandra", exes: []string{"java"}, args: []string{"org.apache.cassandra.service.CassandraDaemon"}, port: 9042, proto: sockets.TCP, also: []uint16{7000, 7199}},
	{name: "activemq", exes: []string{"java"}, args: []string{"activemq"}, port: 61616, proto: sockets.TCP, also: []uint16{8161, 5672, 1883}},
	{name: "solr", exes: []string{"java"}, args: []string{"solr"}, port: 8983, proto: sockets.TCP},
	// HTTP caches and proxies.
	{name: "squid", exes: []string{"squid", "squid3"}, port: 3128, proto: sockets.TCP, also: []uint16{3130, 3401, 8080}},
	{name: "varnishd", exes: []string{"varnishd"}, port: 6081, proto: sockets.TCP, also: []uint16{6082}, web: true},
	{name: "traffic_server", exes: []string{"traffic_server"}, port: 8080, proto: sockets.TCP, web: true},
	// NFS and RPC helpers: on ports rpcbind hands out.
	{name: "rpc.statd", exes: []string{"rpc.statd"}, port: 662, proto: sockets.UDP, dynamic: true},
	{name: "rpc.mountd", exes: []string{"rpc.mountd"}, port: 20048, proto: sockets.UDP, dynamic: true},
	// VPNs.
	{name: "openvpn", exes: []string{"openvpn"}, port: 1194, proto: sockets.UDP},
	{name: "charon", exes: []string{"charon", "charon-systemd"}, port: 500, proto: sockets.UDP, also: []uint16{4500}},
	{name: "xl2tpd", exes: []string{"xl2tpd"}, port: 1701, proto: sockets.UDP},
	{name: "pptpd", exes: []string{"pptpd"}, port: 1723, proto: sockets.TCP},
	// IRC daemons: 6667 is theirs.
	{name: "ircd", exes: []string{"ngircd", "inspircd", "ircd-hybrid", "ircd", "unrealircd", "solanum", "charybdis", "ircd-ratbox"}, port: 6667, proto: sockets.TCP, also: []uint16{6660, 6666, 6697, 194}},
	// Mail helpers.
	{name: "spamd", exes: []string{"spamd"}, args: []string{"spamd"}, port: 783, proto: sockets.TCP},
	{name: "clamd", exes: []string{"clamd"}, port: 3310, proto: sockets.TCP},
	{name: "opendkim", exes: []string{"opendkim"}, port: 8891, proto: sockets.TCP},
	{name: "amavisd", exes: []string{"amavisd-new", "amavisd"}, port: 10024, proto: sockets.TCP},
	// Directory, RADIUS, monitoring, management.
	{name: "slapd", exes: []string{"slapd"}, port: 389, proto: sockets.TCP, also: []uint16{636}},
	{name: "freeradius", exes: []string{"freeradius", "radiusd"}, port: 1812, proto: sockets.UDP, also: []uint16{1813, 18120}},
	{name: "snmpd", exes: []string{"snmpd"}, port: 161, proto: sockets.UDP, also: []uint16{199}},
	{name: "zabbix_agentd", exes: []string{"zabbix_agentd", "zabbix_agent2"}, port: 10050, proto: sockets.TCP},
	{name: "zabbix_server", exes: []string{"zabbix_server", "zabbix_proxy"}, port: 10051, proto: sockets.TCP},
	{name: "munin-node", exes: []string{"munin-node", "perl"}, args: []string{"munin-node"}, port: 4949, proto: sockets.TCP},
	{name: "nrpe", exes: []string{"nrpe"}, port: 5666, proto: sockets.TCP},
	{name: "prometheus", exes: []string{"prometheus"}, port: 9090, proto: sockets.TCP},
	{name: "node_exporter", exes: []string{"prometheus-node-exporter", "node_exporter"}, port: 9100, proto: sockets.TCP},
	{name: "alertmanager", exes: []string{"prometheus-alertmanager", "alertmanager"}, port: 9093, proto: sockets.TCP},
	{name: "grafana", exes: []string{"grafana-server", "grafana"}, port: 3000, proto: sockets.TCP, web: true},
	{name: "libvirtd", exes: []string{"libvirtd", "virtproxyd"}, port: 16509, proto: sockets.TCP, also: []uint16{16514}},
	{name: "vault", exes: []string{"vault"}, port: 8200, proto: sockets.TCP},
	{name: "consul", exes: []string{"consul"}, port: 8500, proto: sockets.TCP, also: []uint16{8300, 8301, 8302, 8600}},
	{name: "nomad", exes: []string{"nomad"}, port: 4646, proto: sockets.TCP, also: []uint16{4647, 4648}},
	{name: "webmin", exes: []string{"perl"}, args: []string{"miniserv.pl"}, port: 10000, proto: sockets.TCP},
	{name: "cockpit-ws", exes: []string{"cockpit-ws"}, port: 9090, proto: sockets.TCP},
	{name: "xrdp", exes: []string{"xrdp"}, port: 3389, proto: sockets.TCP},
	// Databases and brokers.
	{name: "pgbouncer", exes: []string{"pgbouncer"}, port: 6432, proto: sockets.TCP},
	{name: "pgpool", exes: []string{"pgpool"}, port: 9999, proto: sockets.TCP, also: []uint16{9898}},
	{name: "proxysql", exes: []string{"proxysql"}, port: 6033, proto: sockets.TCP, also: []uint16{6032}},
	{name: "clickhouse", exes: []string{"clickhouse-server", "clickhouse"}, port: 8123, proto: sockets.TCP, also: []uint16{9000, 9009}},
	{name: "influxd", exes: []string{"influxd"}, port: 8086, proto: sockets.TCP},
	{name: "mosquitto", exes: []string{"mosquitto"}, port: 1883, proto: sockets.TCP, also: []uint16{8883}},
	{name: "nats-server", exes: []string{"nats-server"}, port: 4222, proto: sockets.TCP},
	// Telephony, version control, storage, routing, syslog, file transfer.
	{name: "asterisk", exes: []string{"asterisk"}, port: 5060, proto: sockets.UDP, also: []uint16{5038, 5061}},
	{name: "kamailio", exes: []string{"kamailio"}, port: 5060, proto: sockets.UDP, also: []uint16{5061}},
	{name: "turnserver", exes: []string{"turnserver"}, port: 3478, proto: sockets.UDP, also: []uint16{5349}},
	{name: "svnserve", exes: []string{"svnserve"}, port: 3690, proto: sockets.TCP},
	{name: "git-daemon", exes: []string{"git-daemon", "git"}, args: []string{"daemon"}, port: 9418, proto: sockets.TCP},
	{name: "rsync", exes: []string{"rsync"}, args: []string{"--daemon"}, port: 873, proto: sockets.TCP},
	{name: "glusterd", exes: []string{"glusterd"}, port: 24007, proto: sockets.TCP},
	{name: "tgtd", exes: []string{"tgtd"}, port: 3260, proto: sockets.TCP},
	{name: "bird", exes: []string{"bird", "bird6"}, port: 179, proto: sockets.TCP},
	{name: "frr", exes: []string{"bgpd", "zebra"}, port: 179, proto: sockets.TCP, also: []uint16{2601, 2605}},
	{name: "rsyslogd", exes: []string{"rsyslogd", "syslog-ng"}, port: 514, proto: sockets.UDP},
	{name: "in.tftpd", exes: []string{"in.tftpd"}, port: 69, proto: sockets.UDP},
	{name: "dhcpd", exes: []string{"dhcpd", "kea-dhcp4"}, port: 67, proto: sockets.UDP},
	{name: "saslauthd", exes: []string{"saslauthd"}, own: &CatalogEntry{Name: "saslauthd", Risk: RiskMedium, Tags: TagInternal,
		Description: "Cyrus SASL authentication daemon", Note: "Checks passwords for the mail server; it belongs on a unix socket."}},
}
