package clean

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestText(t *testing.T) {
	cases := map[string]string{
		"nginx":                      "nginx",
		"redis-server *:6379":        "redis-server *:6379",
		"кафе 日本":                    "кафе 日本",
		"a\tb\nc\rd":                 "a b c d",
		"\x1b]0;pwned\a":             `\x1b]0;pwned\x07`,
		"\x9b2J":                     `\x9b2J`, // a raw 8-bit CSI byte: invalid UTF-8
		"\u009b2J":                   `\x9b2J`, // the C1 CSI as a character
		"x\x1b[2Jy":                  `x\x1b[2Jy`,
		"del\x7f":                    `del\x7f`,
		"evil\u202egnp.exe":          `evil\u202egnp.exe`,
		"\xff\xfe":                   `\xff\xfe`,
		"\xe60":                      `\xe60`,
		"x\x00y":                     `x\x00y`,
		"docker-\x1b[31m.scope":      `docker-\x1b[31m.scope`,
		strings.Repeat("ok ", 1000):  strings.Repeat("ok ", 1000),
		"\U0001F600 emoji stays":     "\U0001F600 emoji stays",
		"combining e\u0301 stays":    "combining e\u0301 stays",
		"x\u2066isolate\u2069":       `x\u2066isolate\u2069`,
		"\u0085next line (C1 NEL)":   `\x85next line (C1 NEL)`,
		"zero-width\u200bjoiner ok?": "zero-width\u200bjoiner ok?",
	}
	for in, want := range cases {
		if got := Text(in); got != want {
			t.Errorf("Text(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCutKeepsCharactersWhole(t *testing.T) {
	for _, c := range []struct {
		s    string
		n    int
		want string
	}{{"abcdef", 3, "abc"}, {"日本語", 4, "日"}, {"日本語", 6, "日本"}, {"ab", 10, "ab"}, {"é", 1, ""}} {
		if got := Cut(c.s, c.n); got != c.want {
			t.Errorf("Cut(%q, %d) = %q, want %q", c.s, c.n, got, c.want)
		}
	}
}

// FuzzText: whatever goes in, what comes out holds nothing a terminal acts
// on, is valid UTF-8, and cleaning it again changes nothing.
func FuzzText(f *testing.F) {
	for _, seed := range []string{"", "nginx", "\x1b]0;x\a", "\x9b2J", "\xe60", "\u202e", "a\tb", "日本\xff"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := Text(in)
		if !utf8.ValidString(out) {
			t.Fatalf("Text(%q) = %q is not valid UTF-8", in, out)
		}
		for _, r := range out {
			if r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f) || isBidi(r) {
				t.Fatalf("Text(%q) = %q holds %U", in, out, r)
			}
		}
		if again := Text(out); again != out {
			t.Fatalf("Text is not idempotent: %q -> %q -> %q", in, out, again)
		}
		if isClean(in) != (out == in) {
			t.Fatalf("isClean(%q) = %v but Text changed it to %q", in, isClean(in), out)
		}
		for n := 0; n <= len(out); n++ {
			if c := Cut(out, n); !utf8.ValidString(c) || len(c) > n {
				t.Fatalf("Cut(%q, %d) = %q", out, n, c)
			}
		}
	})
}
