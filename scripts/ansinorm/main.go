// Command ansinorm rewrites a screen captured with `tmux capture-pane -e -p`
// into the plain form that freeze renders faithfully: every run of text
// starts with a reset and names its colours in full (24-bit), reverse video
// is resolved into swapped colours, and styles are restated on every line.
// freeze understands only ESC[0m as a reset and drops styling at line ends,
// so tmux's own codes (ESC[39m, ESC[49m, ESC[27m, ESC[7m ...) would bleed.
//
// Usage: ansinorm < capture.ansi > clean.ansi
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

func main() {
	in, err := io.ReadAll(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "ansinorm:", err)
		os.Exit(1)
	}
	w := bufio.NewWriter(os.Stdout)
	w.WriteString(normalize(string(in)))
	if err := w.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, "ansinorm:", err)
		os.Exit(1)
	}
}

// rgb is a 24-bit colour.
type rgb struct{ r, g, b uint8 }

func (c rgb) String() string { return fmt.Sprintf("%d;%d;%d", c.r, c.g, c.b) }

// The screenshots' palette: ANSI 0-15 and the default colours.
var (
	defaultFG = rgb{0xd0, 0xd0, 0xd0}
	defaultBG = rgb{0x17, 0x17, 0x17}
	palette   = [16]rgb{
		{0x1d, 0x1f, 0x21}, {0xe0, 0x5a, 0x5a}, {0x7c, 0xc4, 0x6a}, {0xe5, 0xc0, 0x60},
		{0x6a, 0x9f, 0xe0}, {0xc0, 0x8a, 0xd8}, {0x5f, 0xc8, 0xc8}, {0xc5, 0xc8, 0xc6},
		{0x80, 0x80, 0x80}, {0xff, 0x6e, 0x6e}, {0x9a, 0xe0, 0x88}, {0xff, 0xdc, 0x80},
		{0x8c, 0xbc, 0xff}, {0xdc, 0xa8, 0xf0}, {0x80, 0xe4, 0xe4}, {0xff, 0xff, 0xff},
	}
)

// style is the SGR state that matters for a picture.
type style struct {
	fg, bg                                  *rgb // nil: the default
	bold, faint, italic, underline, reverse bool
}

// sgr is the full escape sequence for the style, starting with a reset.
func (s style) sgr() string {
	fg, bg := defaultFG, defaultBG
	if s.fg != nil {
		fg = *s.fg
	}
	if s.bg != nil {
		bg = *s.bg
	}
	if s.reverse {
		fg, bg = bg, fg
	}
	if s.faint {
		fg = rgb{uint8((int(fg.r) + int(bg.r)) / 2), uint8((int(fg.g) + int(bg.g)) / 2), uint8((int(fg.b) + int(bg.b)) / 2)}
	}
	codes := []string{"0"}
	if s.bold {
		codes = append(codes, "1")
	}
	if s.italic {
		codes = append(codes, "3")
	}
	if s.underline {
		codes = append(codes, "4")
	}
	codes = append(codes, "38;2;"+fg.String())
	if bg != defaultBG {
		codes = append(codes, "48;2;"+bg.String())
	}
	return "\x1b[" + strings.Join(codes, ";") + "m"
}

// apply folds one SGR parameter list into the style.
func (s *style) apply(params string) {
	if params == "" {
		params = "0"
	}
	p := strings.Split(params, ";")
	for i := 0; i < len(p); i++ {
		n, _ := strconv.Atoi(p[i])
		switch {
		case n == 0:
			*s = style{}
		case n == 1:
			s.bold = true
		case n == 2:
			s.faint = true
		case n == 3:
			s.italic = true
		case n == 4:
			s.underline = true
		case n == 7:
			s.reverse = true
		case n == 22:
			s.bold, s.faint = false, false
		case n == 23:
			s.italic = false
		case n == 24:
			s.underline = false
		case n == 27:
			s.reverse = false
		case n >= 30 && n <= 37:
			c := palette[n-30]
			s.fg = &c
		case n >= 90 && n <= 97:
			c := palette[n-90+8]
			s.fg = &c
		case n == 39:
			s.fg = nil
		case n >= 40 && n <= 47:
			c := palette[n-40]
			s.bg = &c
		case n >= 100 && n <= 107:
			c := palette[n-100+8]
			s.bg = &c
		case n == 49:
			s.bg = nil
		case n == 38 || n == 48:
			c, used := extendedColor(p[i+1:])
			i += used
			if c != nil {
				if n == 38 {
					s.fg = c
				} else {
					s.bg = c
				}
			}
		}
	}
}

// extendedColor reads "5;N" or "2;R;G;B" after a 38 or 48.
func extendedColor(p []string) (*rgb, int) {
	if len(p) >= 2 && p[0] == "5" {
		n, _ := strconv.Atoi(p[1])
		return color256(n), 2
	}
	if len(p) >= 4 && p[0] == "2" {
		r, _ := strconv.Atoi(p[1])
		g, _ := strconv.Atoi(p[2])
		b, _ := strconv.Atoi(p[3])
		return &rgb{uint8(r), uint8(g), uint8(b)}, 4
	}
	return nil, len(p)
}

// color256 maps the xterm 256-colour palette.
func color256(n int) *rgb {
	switch {
	case n < 16:
		c := palette[n]
		return &c
	case n < 232:
		n -= 16
		level := func(v int) uint8 {
			if v == 0 {
				return 0
			}
			return uint8(55 + 40*v)
		}
		return &rgb{level(n / 36), level(n / 6 % 6), level(n % 6)}
	case n < 256:
		v := uint8(8 + 10*(n-232))
		return &rgb{v, v, v}
	}
	return nil
}

// normalize rewrites the capture line by line. Escape sequences other than
// SGR are dropped; trailing blank lines are kept so the frame keeps its size.
func normalize(in string) string {
	var out strings.Builder
	var st style
	lines := strings.Split(strings.TrimSuffix(in, "\n"), "\n")
	for li, line := range lines {
		current := ""
		for i := 0; i < len(line); {
			if line[i] == 0x1b && i+1 < len(line) && line[i+1] == '[' {
				j := i + 2
				for j < len(line) && (line[j] < 0x40 || line[j] > 0x7e) {
					j++
				}
				if j < len(line) && line[j] == 'm' {
					st.apply(line[i+2 : j])
				}
				i = j + 1
				continue
			}
			if seq := st.sgr(); seq != current {
				out.WriteString(seq)
				current = seq
			}
			out.WriteByte(line[i])
			i++
		}
		out.WriteString("\x1b[0m")
		if li < len(lines)-1 {
			out.WriteByte('\n')
		}
	}
	out.WriteByte('\n')
	return out.String()
}
