package rowset

import (
	"strconv"
	"strings"
)

// Matches reports whether the row, or its details, hold needle (lower
// case): what the table shows (port, addresses, protocol, state, service,
// process, pid, user, exposure, risk, namespace) and what the detail pane
// says (the exposure in full, direction, executables, command lines, units,
// findings and their codes). The text is built only while a filter is set:
// most of the time nobody filters, and 60,000 rows of text would be memory
// for nothing.
func (r *Row) Matches(needle string) bool {
	s := &r.Socket
	has := func(text string) bool { return strings.Contains(strings.ToLower(text), needle) }
	for _, f := range []string{s.ProtoLabel(), s.State, s.LocalEndpoint(), s.RemoteEndpoint(),
		strconv.Itoa(int(s.LPort)), r.Service.Name, r.Service.Description, s.OwnerPIDs(), s.Netns,
		r.Risk.String(), s.OwnerName(), s.OwnerUser()} {
		if has(f) {
			return true
		}
	}
	if s.IsListening() {
		if has(string(s.Exposure())) || has(s.Exposure().Short()) {
			return true
		}
	} else if has(s.Direction.String()) || has(s.Direction.Word()) {
		return true
	}
	for _, p := range s.Owners { // every owner, not only the first
		if has(p.Name) || has(p.User) || has(p.Exe) || has(p.Cmdline) || has(p.Unit) {
			return true
		}
	}
	for _, f := range r.Findings {
		if has(f.Code) || has(f.Text) {
			return true
		}
	}
	return false
}
