package firewall

import "github.com/portwatch/portwatch/sockets"

// mappingOf is a published port's -p mapping as the data model says it (sockets.Published).
func mappingOf(p Published) string {
	sp := sockets.Published{Published: p}
	return sp.Mapping()
}
