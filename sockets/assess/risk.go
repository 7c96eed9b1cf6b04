// Package assess judges what collection read: the service on each port,
// the risk, the findings an analyst should read, and what each TCP state
// means. Every output (the monitor, --once, --json) reads one Assessment,
// so they all say the same thing.
package assess

// Risk is a severity, from information to high. It always has a word, so it
// reads the same with or without colour.
type Risk uint8

// Risk levels, lowest first.
const (
	RiskInfo Risk = iota
	RiskLow
	RiskMedium
	RiskHigh
)

// String is the badge shown for the level: INFO, LOW, MEDIUM, HIGH.
func (r Risk) String() string {
	switch r {
	case RiskLow:
		return "LOW"
	case RiskMedium:
		return "MEDIUM"
	case RiskHigh:
		return "HIGH"
	}
	return "INFO"
}

// MarshalText writes the level as its word in JSON.
func (r Risk) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// Tag marks what kind of service a port is, for the findings.
type Tag uint8

// Service tags.
const (
	TagCleartext Tag = 1 << iota // credentials or data cross the wire unencrypted
	TagDatabase                  // a database, cache or message store
	TagAdmin                     // remote administration or a control plane
	TagBackdoor                  // a port that malware and attack tools favour
	TagInternal                  // meant for the local machine or a private cluster
	// TagPublic marks a service meant to be reached (VPN endpoints, mail,
	// DNS, web): the advice is to restrict who may reach it, never to bind
	// it to loopback.
	TagPublic
)

// Has reports whether all of the tags in t2 are set.
func (t Tag) Has(t2 Tag) bool { return t&t2 == t2 }
