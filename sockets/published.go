package sockets

import "github.com/portwatch/portwatch/sockets/reach"

// Published is a published port of one namespace: connections from outside to its host address
// and port are sent (DNAT) to another address, a container's or another machine's, whether or
// not a proxy socket backs it; the verdict is what they meet on the forward path.
type Published struct {
	reach.Published
	// Netns and NetnsInode are the namespace whose rules publish it (its label, as Socket's).
	Netns      string `json:"netns"`
	NetnsInode uint64 `json:"-"`
}

// Publisher is a Firewall that also lists the ports its rules publish.
type Publisher interface {
	Published() []reach.Published
}
