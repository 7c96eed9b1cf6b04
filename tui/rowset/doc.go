// Package rowset owns the rows of the monitor: every socket it follows
// across polls, which are new and which closed, and the rows of a tab under
// a filter and a sort, found again by their socket's key. It knows nothing
// of bubbletea or of drawing, so it is tested through this API alone.
//
// The Store is changed only by Apply (a poll) and Expire (time passing);
// what the user does (tab, filter, sort, cursor) lives in a View, a small
// value: a copy of a View never changes another copy's rows.
package rowset
