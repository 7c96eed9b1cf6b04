package main

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/portwatch/portwatch/sockets"
)

// printTables writes the --once report: listening sockets, then established
// connections (then, with --all, the other states), as aligned columns.
func printTables(w io.Writer, snap *sockets.Snapshot, kb *sockets.Knowledge, o options) error {
	a := sockets.Analyze(snap, kb)
	var listening, established, other []*sockets.Socket
	for i := range snap.Sockets {
		s := &snap.Sockets[i]
		switch s.Kind() {
		case sockets.KindListening:
			listening = append(listening, s)
		case sockets.KindEstablished:
			established = append(established, s)
		default:
			other = append(other, s)
		}
	}
	sortSockets(listening)
	sortSockets(established)
	sortSockets(other)

	// With more than one network namespace, each row says where it lives.
	ns := func(*sockets.Socket) string { return "" }
	nsHead := ""
	for i := range snap.Sockets {
		if n := snap.Sockets[i].Netns; n != "" && n != sockets.HostNetns {
			ns = func(s *sockets.Socket) string { return s.Netns + "\t" }
			nsHead = "NETNS\t"
			break
		}
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if !o.established {
		fmt.Fprintf(tw, "LISTENING (%d)\n", len(listening))
		fmt.Fprintln(tw, nsHead+"PROTO\tADDRESS\tPORT\tSERVICE\tRISK\tCONNS\tPID\tPROCESS\tUSER\tEXPOSURE")
		for _, s := range listening {
			info := kb.ForSocket(s)
			risk := sockets.WorstRisk(s, info, a.Findings(s))
			fmt.Fprintf(tw, "%s%s\t%s\t%d\t%s\t%s\t%d\t%s\t%s\t%s\t%s\n", ns(s), s.ProtoLabel(), s.Local, s.LPort,
				info.Name, risk, a.Connections(s), s.OwnerPIDs(), s.OwnerName(), s.OwnerUser(), s.Exposure())
		}
	}
	if !o.listening {
		if !o.established {
			fmt.Fprintln(tw)
		}
		fmt.Fprintf(tw, "ESTABLISHED (%d)\n", len(established))
		printConnections(tw, established, kb, false, ns, nsHead)
		if o.showAll {
			fmt.Fprintf(tw, "\nOTHER STATES (%d)\n", len(other))
			printConnections(tw, other, kb, true, ns, nsHead)
		} else if len(other) > 0 && !o.established {
			fmt.Fprintf(tw, "\n%d sockets in other states (%s): --all lists them\n", len(other), stateCounts(other))
		}
	}
	if snap.NetnsNote != "" {
		fmt.Fprintf(tw, "\n%s\n", snap.NetnsNote)
	}
	if snap.HideNote != "" {
		fmt.Fprintf(tw, "\n%d owners hidden: %s\n", snap.Hidden, snap.HideNote)
	}
	return tw.Flush()
}

func printConnections(tw io.Writer, socks []*sockets.Socket, kb *sockets.Knowledge, withState bool, ns func(*sockets.Socket) string, nsHead string) {
	head := "PROTO\tLOCAL\tREMOTE\tDIR\tSERVICE\tPID\tPROCESS\tUSER"
	if withState {
		head = "PROTO\tSTATE\tLOCAL\tREMOTE\tDIR\tSERVICE\tPID\tPROCESS\tUSER"
	}
	fmt.Fprintln(tw, nsHead+head)
	for _, s := range socks {
		state := ""
		if withState {
			state = s.State + "\t"
		}
		fmt.Fprintf(tw, "%s%s\t%s%s\t%s\t%s\t%s\t%s\t%s\t%s\n", ns(s), s.ProtoLabel(), state, s.LocalEndpoint(), s.RemoteEndpoint(),
			s.Direction, kb.ForSocket(s).Name, s.OwnerPIDs(), s.OwnerName(), s.OwnerUser())
	}
}

func stateCounts(socks []*sockets.Socket) string {
	n := map[string]int{}
	for _, s := range socks {
		n[s.State]++
	}
	states := make([]string, 0, len(n))
	for st := range n {
		states = append(states, st)
	}
	slices.Sort(states)
	parts := make([]string, len(states))
	for i, st := range states {
		parts[i] = st + " " + strconv.Itoa(n[st])
	}
	return strings.Join(parts, ", ")
}

// sortSockets orders by port, then protocol, then address.
func sortSockets(socks []*sockets.Socket) {
	slices.SortStableFunc(socks, func(a, b *sockets.Socket) int {
		return cmp.Or(cmp.Compare(a.LPort, b.LPort), cmp.Compare(a.Proto, b.Proto),
			a.Local.Compare(b.Local), cmp.Compare(a.RPort, b.RPort), a.Remote.Compare(b.Remote))
	})
}
