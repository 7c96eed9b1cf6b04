// Package sockettest holds what the tests of portwatch's packages share:
// a real loopback TCP connection with both ends (LoopbackPair, Connect), a
// bounded wait for a condition instead of a sleep that guesses (WaitFor,
// WaitDelivered, WaitState), and the skips of the test tiers (SkipShort,
// NeedRoot).
//
// Only tests import it: it imports package testing, and no program code
// may depend on it. Everything it makes is real (sockets of the kernel,
// states read from /proc) and is undone by t.Cleanup.
package sockettest
