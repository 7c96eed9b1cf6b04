// Package clean makes text read from the machine safe to store, cut and
// print. Everything portwatch reads is attacker-controlled text: a process
// chooses its name and arguments, anyone may name a cgroup or a network
// namespace, and DNS answers come from whoever runs the zone. A name holding
// an escape sequence would otherwise rewrite the analyst's terminal (clear
// the screen, retitle the window, fake a row), and invalid UTF-8 or a bidi
// override would make the screen lie about what is there.
//
// Text is cleaned once, where it enters (collection, the resolver, the
// hostname), before it is cut, stored or printed.
package clean

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Text replaces, visibly, everything that a terminal would act on or that
// would make the text read other than it is:
//   - tab, newline and carriage return become a space (a command line's
//     arguments stay apart, and a name cannot start a new row);
//   - other C0 controls, DEL and C1 controls (U+0080-U+009F, which include
//     the 8-bit CSI) become \xNN;
//   - a byte that is not valid UTF-8 becomes \xNN;
//   - bidirectional overrides and isolates (U+202A-U+202E, U+2066-U+2069),
//     which reorder what is shown, become \uNNNN.
//
// Clean text comes back unchanged, without a copy.
func Text(s string) string {
	if isClean(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\t' || r == '\n' || r == '\r':
			b.WriteByte(' ')
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f):
			fmt.Fprintf(&b, `\x%02x`, r)
		case isBidi(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// isClean reports whether Text would leave s as it is: the usual case,
// checked without allocating.
func isClean(s string) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size <= 1) || r <= 0x9f || isBidi(r) {
			return false
		}
		i += size
	}
	return true
}

func isBidi(r rune) bool {
	return (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069)
}

// Cut shortens clean text to at most n bytes without splitting a
// character: an identifier cut short (a container id) stays valid text.
func Cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
