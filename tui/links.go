package tui

import (
	"fmt"

	"github.com/portwatch/portwatch/tui/rowset"
)

// showConnections narrows the All states tab to the selected listener's
// connections, in every state: from a service to its sessions in one key.
func (m *Model) showConnections() {
	l := m.table.current()
	if l == nil || !l.Socket.IsListening() {
		m.setStatus("c lists a listener's connections: select a listener first (tab 1)")
		return
	}
	listener := *l // a copy: the row may go, the relation stays
	m.table.link = &link{
		label: fmt.Sprintf("connections of %s %s", l.Socket.ProtoLabel(), l.Socket.LocalEndpoint()),
		where: func(r *rowset.Row) bool { return rowset.ConnectionOf(r, &listener) },
	}
	m.table.tab, m.table.offset = rowset.All, 0
	m.refreshRows()
	m.setStatus(fmt.Sprintf("%s: %s · esc shows every socket again", m.table.link.label, statusFor(m.table.view().Len(), "connection")))
}

// goToOtherEnd selects the other end of a connection whose both ends are
// on this machine (a loopback connection is two rows).
func (m *Model) goToOtherEnd() {
	r := m.table.current()
	if r == nil || r.Socket.IsListening() {
		m.setStatus("o jumps to a connection's other end: select a connection first")
		return
	}
	other := m.store.OtherEnd(r)
	if other == nil {
		m.setStatus("the other end of this connection is not on this machine (or not in this namespace)")
		return
	}
	if !m.table.view().Select(other.Key()) {
		m.table.link = nil
		m.filter.clear()
		m.refreshRows()
		if !m.table.view().Select(other.Key()) {
			m.table.switchTab(rowset.All, m.store, "")
			m.table.view().Select(other.Key())
		}
	}
	m.table.scrollToCursor()
	m.relayout()
	m.setStatus(fmt.Sprintf("the other end: %s %s → %s", other.Socket.ProtoLabel(), other.Socket.LocalEndpoint(), other.Socket.RemoteEndpoint()))
}
