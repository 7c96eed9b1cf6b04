package assess

import (
	"fmt"
	"sync"

	"github.com/portwatch/portwatch/sockets"
)

// Origin says where a service's description came from.
type Origin string

// Origins of a ServiceInfo.
const (
	FromCatalog Origin = "catalog" // portwatch's own notes
	FromSystem  Origin = "system"  // a name from /etc/services only
	Unknown     Origin = "unknown" // no name anywhere
)

// ServiceInfo is what portwatch can say about a port.
type ServiceInfo struct {
	Port        uint16
	Proto       sockets.Proto
	Name        string
	Description string
	Risk        Risk
	Tags        Tag
	Note        string
	UsualUser   string
	Origin      Origin // where the port's description came from
	// Source says how the socket's service was identified, and Program
	// names the program that identified it, if one did.
	Source  Source
	Program string
}

// Source says how a socket's service was identified.
type Source string

// The sources of an identification. They are part of the JSON interface.
const (
	ByPortAndProgram Source = "port+program" // the port's service, run by a program that serves it
	ByProgram        Source = "program"      // a known server program, whatever the port says
	ByPort           Source = "port"         // the port's catalog entry; the program is not known to portwatch, or not seen
	ByServicesFile   Source = "services"     // a name from /etc/services only
	NotIdentified    Source = "unknown"      // neither port nor program says
)

// How says, for people, how the service was identified: "by its program
// sshd", "by port 6379".
func (i *ServiceInfo) How() string {
	switch i.Source {
	case ByPortAndProgram:
		return fmt.Sprintf("by port %d and its program %s", i.Port, i.Program)
	case ByProgram:
		return "by its program " + i.Program
	case ByPort:
		return fmt.Sprintf("by port %d", i.Port)
	case ByServicesFile:
		return fmt.Sprintf("by port %d, named in /etc/services", i.Port)
	}
	return "by neither its port nor its program"
}

// Knowledge answers "what is this port?": portwatch's catalog first, then the
// system's service database, then "unknown service".
type Knowledge struct {
	catalog   map[serviceKey]*CatalogEntry
	system    map[serviceKey]string
	Ephemeral PortRange

	mu     sync.Mutex
	shared map[sharedKey]*ServiceInfo // SharedForSocket's answers
}

type sharedKey struct {
	serviceKey
	outbound bool
	program  int // index in programs, -1 for none
}

// NewKnowledge builds a knowledge base from the catalog, the services(5)
// file at servicesPath and the kernel's ephemeral port range file.
func NewKnowledge(servicesPath, portRangePath string) *Knowledge {
	k := &Knowledge{
		catalog:   make(map[serviceKey]*CatalogEntry, len(catalog)*2),
		system:    loadServices(servicesPath),
		Ephemeral: readEphemeralRange(portRangePath),
	}
	for i := range catalog {
		e := &catalog[i]
		for _, p := range []sockets.Proto{sockets.TCP, sockets.UDP} {
			if e.protos.covers(p) {
				k.catalog[serviceKey{e.Port, p}] = e
			}
		}
	}
	return k
}

var (
	systemKnowledge     *Knowledge
	systemKnowledgeOnce sync.Once
)

// SystemKnowledge is the knowledge base of this machine, built once.
func SystemKnowledge() *Knowledge {
	systemKnowledgeOnce.Do(func() {
		systemKnowledge = NewKnowledge("/etc/services", "/proc/sys/net/ipv4/ip_local_port_range")
	})
	return systemKnowledge
}

// Lookup describes a listening port.
func (k *Knowledge) Lookup(proto sockets.Proto, port uint16) ServiceInfo {
	key := serviceKey{port, proto}
	if e, ok := k.catalog[key]; ok {
		return ServiceInfo{Port: port, Proto: proto, Name: e.Name, Description: e.Description,
			Risk: e.Risk, Tags: e.Tags, Note: e.Note, UsualUser: e.UsualUser, Origin: FromCatalog}
	}
	if name, ok := k.system[key]; ok {
		return ServiceInfo{Port: port, Proto: proto, Name: name, Risk: RiskLow, Origin: FromSystem,
			Description: fmt.Sprintf("%s (named in the system's service list)", name),
			Note:        "portwatch has no notes of its own for this service. Check that it is meant to run here, and that it is reachable only from where it must be."}
	}
	info := ServiceInfo{Port: port, Proto: proto, Name: "unknown", Origin: Unknown,
		Description: "No service is registered on this port", Risk: RiskMedium,
		Note: "No known service uses this port. An unexpected listener can be a backdoor or malware: identify the process and its binary, and close it if it has no reason to be here."}
	if k.Ephemeral.Contains(port) {
		info.Risk = RiskLow
		info.Note = fmt.Sprintf("The port is in the kernel's ephemeral range (%d-%d), which a program gets when it asks for any free port: usually a helper, RPC or debug port of the owning program. Check that the process is one you expect.", k.Ephemeral.Low, k.Ephemeral.High)
	}
	return info
}

// ServicePort is the port that names a socket's service: the local port of a
// listener or an inbound connection, the remote port of an outbound one (its
// local port is an ephemeral one the kernel picked, not a service).
func ServicePort(s *sockets.Socket) uint16 {
	if s.IsListening() || s.Direction == sockets.Inbound {
		return s.LPort
	}
	return s.RPort
}

// sharedForSocket is identify as a pointer shared by every socket of the
// same service and program: a monitor holding 60,000 rows keeps one copy
// of each description. The ServiceInfo must not be changed. Safe for
// concurrent use.
func (k *Knowledge) sharedForSocket(s *sockets.Socket) *ServiceInfo {
	prog := -1
	if s.Direction != sockets.Outbound {
		if p, _ := programOf(s); p != nil {
			prog = p.index()
		}
	}
	key := sharedKey{serviceKey{ServicePort(s), s.Proto}, s.Direction == sockets.Outbound, prog}
	k.mu.Lock()
	defer k.mu.Unlock()
	if info, ok := k.shared[key]; ok {
		return info
	}
	if k.shared == nil {
		k.shared = map[sharedKey]*ServiceInfo{}
	}
	info := k.identify(s, prog)
	k.shared[key] = &info
	return &info
}

// identify names a socket's service from its port and, for a listener or
// an inbound connection, from the program that holds it: a known program on
// another port is named by its program, with its own notes.
func (k *Knowledge) identify(s *sockets.Socket, prog int) ServiceInfo {
	info := k.ForSocket(s)
	switch info.Origin {
	case FromCatalog:
		info.Source = ByPort
	case FromSystem:
		info.Source = ByServicesFile
	default:
		info.Source = NotIdentified
	}
	if prog < 0 {
		return info
	}
	p := &programs[prog]
	port := ServicePort(s)
	if p.serves(port) && info.Origin == FromCatalog {
		info.Source, info.Program = ByPortAndProgram, p.name
		if info.Tags.Has(TagBackdoor) {
			// The port's fame among botnets (IRC's 6667) is no risk of
			// the daemon whose port it is: backdoorPortFinding still
			// judges who holds it.
			info.Risk = min(info.Risk, RiskMedium)
			info.Note = "The port is also a favourite of backdoors; here " + p.name + ", the daemon whose port it is, holds it, and it is rated as that service: check that it is meant to run here and who may reach it."
		}
		return info
	}
	var own ServiceInfo
	if p.own != nil {
		e := p.own
		own = ServiceInfo{Name: e.Name, Description: e.Description, Risk: e.Risk, Tags: e.Tags, Note: e.Note, UsualUser: e.UsualUser, Origin: FromCatalog}
	} else {
		own = k.Lookup(p.proto, p.port)
	}
	own.Port, own.Proto, own.Source, own.Program = port, s.Proto, ByProgram, p.name
	return own
}

// ForSocket describes the service a socket belongs to. For an outbound
// connection it is the remote service, and an unknown remote port is only
// information: the risk of an unknown port lies in listening on it.
func (k *Knowledge) ForSocket(s *sockets.Socket) ServiceInfo {
	info := k.Lookup(s.Proto, ServicePort(s))
	if s.Direction == sockets.Outbound && info.Origin == Unknown {
		info.Risk = RiskInfo
		info.Description = "An outbound connection to an unregistered port"
		info.Note = "The remote port has no registered service. Usually harmless; a long-lived connection to an odd port on an unknown host can be a command-and-control channel."
	}
	return info
}

// catalogEntry is the catalog's entry for a port, or nil.
func catalogEntry(proto sockets.Proto, port uint16) *CatalogEntry {
	for i := range catalog {
		if catalog[i].Port == port && catalog[i].protos.covers(proto) {
			return &catalog[i]
		}
	}
	return nil
}
