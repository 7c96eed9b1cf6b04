// Package lab is the engine of portwatch lab: a guided scene of real
// sockets for a class. Each step makes something happen for real (a server
// listens, a client connects and closes, a server leaks CLOSE_WAIT, a
// firewall drops a SYN, a backdoor appears, a port scan comes in) with real
// sockets held by small helper processes, and tells the class what happened
// and where to look; the monitor shows the sockets as it shows any others.
//
// Where the lab runs: portwatch lab runs itself again in a network
// namespace of its own (NamespaceCommand; without root inside a user
// namespace too, where the student is root for that namespace alone),
// where ports are free, well-known ports may be used and the lab installs
// its own firewall rule; the namespace is anonymous and ends with its last
// process. Where the kernel refuses (or with --no-netns) it uses a block
// of free high ports on loopback of its own (ports.go), so that a class
// runs many labs on one machine. Only loopback carries the lab's traffic.
//
// Cleanup does not depend on the happy path: every helper is started with
// Pdeathsig SIGKILL from a thread the scene keeps, so it dies with the
// scene, kill -9 of portwatch included, and every helper socket resets
// when it closes, so a killed helper leaves no TIME_WAIT.
//
// Every file but this one and unsupported.go builds on Linux only.
package lab
