//go:build linux

package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/term"
	"github.com/muesli/termenv"
	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/baseline"
	"github.com/portwatch/portwatch/sockets/collect"
	"github.com/portwatch/portwatch/sockets/lab"
	"github.com/portwatch/portwatch/tui"
)

// runMonitor starts the interactive monitor and gives the terminal back
// clean when it ends.
// b is the baseline (nil for none) and savePath where the b key saves one.
func runMonitor(o monitorSettings, src sockets.Source, b *baseline.Baseline, savePath string, scene lab.Scene) error {
	if !term.IsTerminal(os.Stdout.Fd()) || !term.IsTerminal(os.Stdin.Fd()) {
		return errors.New("the monitor needs a terminal; use --once or --json for output to a pipe or file")
	}
	color := !o.noColor && os.Getenv("NO_COLOR") == ""
	if !color {
		lipgloss.SetColorProfile(termenv.Ascii)
	}
	// 20 frames a second at most: a key still shows within 50 ms, and the
	// renderer's timer wakes the process a third as often as at the default
	// 60, which alone cost 0.7% of a core on an idle machine.
	opts := []tea.ProgramOption{tea.WithAltScreen(), tea.WithFPS(20)}
	if o.mouse {
		opts = append(opts, tea.WithMouseCellMotion())
	}
	now, err := clockFromEnv()
	if err != nil {
		return err
	}
	cfg := tui.Config{
		Source:       src,
		Interval:     o.interval,
		Color:        color,
		ReadOnly:     o.readOnly,
		Resolve:      o.resolve,
		Now:          now,
		Baseline:     b,
		BaselinePath: savePath,
		Bell:         o.bell,
		Signal:       collect.Signal,
	}
	if scene != nil {
		cfg.Lab = labScene{scene}
	}
	if o.logPath != "" {
		log, err := openEventLog(o.logPath)
		if err != nil {
			return err
		}
		defer log.Close()
		log.setFormat(o.logFormat)
		cfg.OnEvents = log.Write
	}
	m := tui.New(cfg)
	stop := make(chan struct{})
	defer close(stop)
	go boundMemory(stop)
	p := tea.NewProgram(m, opts...)
	var hungUp atomic.Bool
	go watchTerminal(stop, func() {
		hungUp.Store(true)
		p.Kill() // nothing to restore on a terminal that is gone, and writing to it could only fail
	}, os.Stdin, os.Stdout)
	_, err = p.Run()
	if hungUp.Load() {
		return fmt.Errorf("monitor: %w", errTerminalGone)
	}
	if err != nil {
		return fmt.Errorf("monitor: %w", err)
	}
	return nil
}

// clockFromEnv stops the monitor's clock at PORTWATCH_CLOCK (RFC 3339), so
// that demos and the README's screenshots come out the same every time.
func clockFromEnv() (func() time.Time, error) {
	v := os.Getenv("PORTWATCH_CLOCK")
	if v == "" {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return nil, fmt.Errorf("PORTWATCH_CLOCK=%q is not an RFC 3339 time such as 2026-11-25T12:00:00Z", v)
	}
	return func() time.Time { return t }, nil
}

// labScene hands the monitor the lab's scene in the monitor's own terms, so
// tui links none of the lab's machinery.
type labScene struct{ lab.Scene }

func (s labScene) Go(ctx context.Context, i int) (tui.Narration, error) {
	n, err := s.Scene.Go(ctx, i)
	return tui.Narration(n), err
}
