//go:build linux

package firewall

import (
	"fmt"
	"strings"
	"testing"
)

// kubeManyServices is kube-proxy's iptables mode for n Services, each a ClusterIP on port 80 and
// a NodePort 30000+i to one endpoint: the size a cluster's node holds.
func kubeManyServices(n int) string {
	var chains, rules strings.Builder
	chains.WriteString("*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n")
	chains.WriteString(":KUBE-SERVICES - [0:0]\n:KUBE-NODEPORTS - [0:0]\n:KUBE-MARK-MASQ - [0:0]\n")
	rules.WriteString("-A PREROUTING -j KUBE-SERVICES\n-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&chains, ":KUBE-SVC-%d - [0:0]\n:KUBE-EXT-%d - [0:0]\n:KUBE-SEP-%d - [0:0]\n", i, i, i)
		fmt.Fprintf(&rules, "-A KUBE-SERVICES -d 10.96.%d.%d/32 -p tcp -m tcp --dport 80 -j KUBE-SVC-%d\n", i/250, i%250+1, i)
		fmt.Fprintf(&rules, "-A KUBE-NODEPORTS -p tcp -m tcp --dport %d -j KUBE-EXT-%d\n", 30000+i, i)
		fmt.Fprintf(&rules, "-A KUBE-EXT-%d -j KUBE-MARK-MASQ\n-A KUBE-EXT-%d -j KUBE-SVC-%d\n-A KUBE-SVC-%d -j KUBE-SEP-%d\n", i, i, i, i, i)
		fmt.Fprintf(&rules, "-A KUBE-SEP-%d -p tcp -m tcp -j DNAT --to-destination 10.244.%d.%d:8080\n", i, i/250, i%250+1)
	}
	rules.WriteString("-A KUBE-SERVICES -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS\nCOMMIT\n")
	return chains.String() + rules.String()
}

// kubeBenchN is the Services of BenchmarkKubePublished.
var kubeBenchN = 1000

// BenchmarkKubePublished is Published on a node with 1000 kube-proxy Services (iptables mode):
// every NodePort a candidate of its own, each walked through KUBE-SERVICES.
func BenchmarkKubePublished(b *testing.B) {
	needLab(b, "iptables-nft-restore")
	l := newLab(b, "kubebench")
	run(b, kubeManyServices(kubeBenchN), "ip", "netns", "exec", l.srv, "iptables-nft-restore")
	rs, err := Read(l.pid)
	if err != nil {
		b.Fatal(err)
	}
	rs.SetLocal(kubeLocal)
	b.ReportAllocs()
	b.ResetTimer()
	start := cpuTime()
	for i := 0; i < b.N; i++ {
		rs.SetRoutes([]Route{{Dev: fmt.Sprint(i)}}) // forgets the published ports
		if n := len(rs.Published()); n != min(kubeBenchN, maxPortlessCandidates-1) {
			b.Fatalf("%d published, want %d", n, min(kubeBenchN, maxPortlessCandidates-1))
		}
	}
	reportCPU(b, start)
}
