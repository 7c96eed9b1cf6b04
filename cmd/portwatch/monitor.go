package main

import (
	"errors"
	"fmt"
	"os"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/term"
	"github.com/muesli/termenv"
	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/tui"
)

// runMonitor starts the interactive monitor and gives the terminal back
// clean when it ends.
func runMonitor(o options, src sockets.Source) error {
	if !term.IsTerminal(os.Stdout.Fd()) || !term.IsTerminal(os.Stdin.Fd()) {
		return errors.New("the monitor needs a terminal; use --once or --json for output to a pipe or file")
	}
	color := !o.noColor && os.Getenv("NO_COLOR") == ""
	if !color {
		lipgloss.SetColorProfile(termenv.Ascii)
	}
	opts := []tea.ProgramOption{tea.WithAltScreen()}
	if o.mouse {
		opts = append(opts, tea.WithMouseCellMotion())
	}
	m := tui.New(tui.Config{
		Source:   src,
		Interval: o.interval,
		Color:    color,
		ReadOnly: o.readOnly,
		Resolve:  o.resolve,
	})
	if _, err := tea.NewProgram(m, opts...).Run(); err != nil {
		return fmt.Errorf("monitor: %w", err)
	}
	return nil
}
