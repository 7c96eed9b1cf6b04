//go:build !linux

package firewall

// The ruleset is read over Linux's netlink (nftables). On another system this
// package is empty, so the module still builds; the data model speaks the
// verdict vocabulary of sockets/reach, which builds everywhere.
