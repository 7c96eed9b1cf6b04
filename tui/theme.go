package tui

import (
	"github.com/charmbracelet/lipgloss"
	"github.com/portwatch/portwatch/sockets/assess"
)

// Theme holds every style of the monitor; nothing else calls
// lipgloss.NewStyle. Colours are ANSI 0-15 so the user's palette applies, and
// every colour has a text twin (a word, a sign), so the Ascii profile and
// NO_COLOR lose nothing but colour.
type Theme struct {
	Title, Warning, Muted, Error            lipgloss.Style
	TabActive, TabInactive                  lipgloss.Style
	ColumnHeader, Selected, Added, Removed  lipgloss.Style
	RiskInfo, RiskLow, RiskMedium, RiskHigh lipgloss.Style
	PaneTitle, Label, Dialog                lipgloss.Style
}

// NewTheme builds the theme; with color false every style is plain.
func NewTheme(color bool) Theme {
	s := func() lipgloss.Style { return lipgloss.NewStyle() }
	if !color {
		return Theme{Title: s(), Warning: s(), Muted: s(), Error: s(),
			TabActive: s(), TabInactive: s(), ColumnHeader: s(), Selected: s(), Added: s(), Removed: s(),
			RiskInfo: s(), RiskLow: s(), RiskMedium: s(), RiskHigh: s(),
			PaneTitle: s(), Label: s(), Dialog: s()}
	}
	c := func(s string) lipgloss.Color { return lipgloss.Color(s) }
	return Theme{
		Title:        s().Bold(true).Foreground(c("6")),
		Warning:      s().Foreground(c("3")),
		Muted:        s().Foreground(c("8")),
		Error:        s().Foreground(c("1")).Bold(true),
		TabActive:    s().Bold(true).Reverse(true),
		TabInactive:  s().Foreground(c("7")),
		ColumnHeader: s().Bold(true).Underline(true),
		Selected:     s().Reverse(true),
		Added:        s().Foreground(c("2")).Bold(true),
		Removed:      s().Foreground(c("8")).Strikethrough(true),
		RiskInfo:     s().Foreground(c("8")),
		RiskLow:      s().Foreground(c("4")),
		RiskMedium:   s().Foreground(c("3")).Bold(true),
		RiskHigh:     s().Foreground(c("1")).Bold(true),
		PaneTitle:    s().Bold(true).Foreground(c("6")),
		Label:        s().Foreground(c("8")),
		Dialog:       s().Bold(true).Foreground(c("3")),
	}
}

// Risk is the style for a risk badge.
func (t Theme) Risk(r assess.Risk) lipgloss.Style {
	switch r {
	case assess.RiskHigh:
		return t.RiskHigh
	case assess.RiskMedium:
		return t.RiskMedium
	case assess.RiskLow:
		return t.RiskLow
	}
	return t.RiskInfo
}
