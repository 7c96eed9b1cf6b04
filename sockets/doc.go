// Package sockets is portwatch's data model: a Socket, the processes that
// own it, a Snapshot of the machine, and the key that follows a socket from
// one poll to the next. Its sub-packages are the two rooms that share it:
// collect reads the machine (netlink, /proc, namespaces, processes) and
// assess judges what was read (services, risk, findings). None of them
// imports a UI package.
package sockets
