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
	"github.com/portwatch/portwatch/sockets/assess"
)

// printTables writes the --once report: listening sockets, then established
// connections (then, with --all, the other states), as aligned columns.
func printTables(w io.Writer, snap *sockets.Snapshot, a *assess.Assessment, o options) error {
	var listening, established, other []*assess.Verdict
	for _, v := range a.Verdicts {
		switch v.Socket.Kind() {
		case sockets.KindListening:
			listening = append(listening, v)
		case sockets.KindEstablished:
			established = append(established, v)
		default:
			other = append(other, v)
		}
	}
	sortVerdicts(listening)
	sortVerdicts(established)
	sortVerdicts(other)

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
		for _, v := range listening {
			s := &v.Socket
			fmt.Fprintf(tw, "%s%s\t%s\t%d\t%s\t%s\t%d\t%s\t%s\t%s\t%s\n", ns(s), s.ProtoLabel(), s.Local, s.LPort,
				v.Service.Name, v.Risk, v.Conns, s.OwnerPIDs(), s.OwnerName(), s.OwnerUser(), s.Exposure())
		}
	}
	if !o.listening {
		if !o.established {
			fmt.Fprintln(tw)
		}
		fmt.Fprintf(tw, "ESTABLISHED (%d)\n", len(established))
		printConnections(tw, established, false, ns, nsHead)
		if o.showAll {
			fmt.Fprintf(tw, "\nOTHER STATES (%d)\n", len(other))
			printConnections(tw, other, true, ns, nsHead)
		} else if len(other) > 0 && !o.established {
			fmt.Fprintf(tw, "\n%d sockets in other states (%s): --all lists them\n", len(other), stateCounts(other))
		}
	}
	if note := a.NetnsReason(); note != "" {
		fmt.Fprintf(tw, "\n%s\n", note)
	}
	if note := a.HiddenReason(); note != "" {
		fmt.Fprintf(tw, "\n%d owners hidden: %s\n", snap.Hidden, note)
	}
	return tw.Flush()
}

func printConnections(tw io.Writer, verdicts []*assess.Verdict, withState bool, ns func(*sockets.Socket) string, nsHead string) {
	head := "PROTO\tLOCAL\tREMOTE\tDIR\tSERVICE\tPID\tPROCESS\tUSER"
	if withState {
		head = "PROTO\tSTATE\tLOCAL\tREMOTE\tDIR\tSERVICE\tPID\tPROCESS\tUSER"
	}
	fmt.Fprintln(tw, nsHead+head)
	for _, v := range verdicts {
		s := &v.Socket
		state := ""
		if withState {
			state = s.State + "\t"
		}
		fmt.Fprintf(tw, "%s%s\t%s%s\t%s\t%s\t%s\t%s\t%s\t%s\n", ns(s), s.ProtoLabel(), state, s.LocalEndpoint(), s.RemoteEndpoint(),
			s.Direction, v.Service.Name, s.OwnerPIDs(), s.OwnerName(), s.OwnerUser())
	}
}

func stateCounts(verdicts []*assess.Verdict) string {
	n := map[string]int{}
	for _, v := range verdicts {
		n[v.Socket.State]++
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

// sortVerdicts orders by port, then protocol, then address.
func sortVerdicts(verdicts []*assess.Verdict) {
	slices.SortStableFunc(verdicts, func(x, y *assess.Verdict) int {
		a, b := &x.Socket, &y.Socket
		return cmp.Or(cmp.Compare(a.LPort, b.LPort), cmp.Compare(a.Proto, b.Proto),
			a.Local.Compare(b.Local), cmp.Compare(a.RPort, b.RPort), a.Remote.Compare(b.Remote))
	})
}
