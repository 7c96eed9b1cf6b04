//go:build linux

package firewall

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Legacy iptables (x_tables through setsockopt, not nftables) is not evaluated. A namespace whose
// legacy tables can touch an incoming packet (a rule in a prerouting or input chain, or a policy
// other than ACCEPT there) gets Unknown verdicts for that family. Tables that exist but hold nothing
// on that path (the ip_tables module creates them empty with ACCEPT policies) are harmless.

const (
	iptSoGetInfo    = 64 // IPT_SO_GET_INFO, IP6T_SO_GET_INFO
	iptSoGetEntries = 65 // IPT_SO_GET_ENTRIES, IP6T_SO_GET_ENTRIES
	getinfoSize     = 84 // struct ipt_getinfo
	getEntriesHead  = 40 // struct ipt_get_entries before its entries
	xtTargetHead    = 32 // struct xt_entry_target
	verdictAccept   = -2 // -NF_ACCEPT - 1
)

// legacyNames lists the legacy tables of a family from /proc/PID/net.
func (h *nsHandle) legacyNames(v6 bool) []string {
	name := "ip_tables_names"
	if v6 {
		name = "ip6_tables_names"
	}
	b, err := os.ReadFile(filepath.Join(h.procNet(), name))
	if err != nil {
		return nil
	}
	return strings.Fields(string(b))
}

// legacy says, per family, whether legacy iptables may act on a new incoming connection.
func (h *nsHandle) legacy() (v4, v6 bool, err error) {
	n4, n6 := h.legacyNames(false), h.legacyNames(true)
	if len(n4) == 0 && len(n6) == 0 {
		return false, false, nil
	}
	err = h.inNS(func() error {
		var err error
		if v4, err = legacyFamily(false, n4); err != nil {
			return err
		}
		v6, err = legacyFamily(true, n6)
		return err
	})
	return v4, v6, err
}

func legacyFamily(v6 bool, names []string) (bool, error) {
	if len(names) == 0 {
		return false, nil
	}
	domain, level, entrySize, targetOff := unix.AF_INET, unix.SOL_IP, 112, 88
	if v6 {
		domain, level, entrySize, targetOff = unix.AF_INET6, unix.SOL_IPV6, 168, 140
	}
	fd, err := unix.Socket(domain, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.IPPROTO_RAW)
	if err != nil {
		return false, os.NewSyscallError("socket", err)
	}
	defer unix.Close(fd)
	for _, name := range names {
		active, err := legacyTable(fd, level, name, entrySize, targetOff)
		if err != nil {
			if errors.Is(err, unix.ENOENT) {
				continue // gone meanwhile
			}
			return false, err
		}
		if active {
			return true, nil
		}
	}
	return false, nil
}

func getsockopt(fd, level, opt int, buf []byte) error {
	n := uint32(len(buf))
	_, _, e := unix.Syscall6(unix.SYS_GETSOCKOPT, uintptr(fd), uintptr(level), uintptr(opt),
		uintptr(unsafe.Pointer(&buf[0])), uintptr(unsafe.Pointer(&n)), 0)
	if e != 0 {
		return os.NewSyscallError("getsockopt", e)
	}
	return nil
}

// legacyTable says whether one legacy table has rules, or a policy other than ACCEPT, in its
// prerouting or input chain.
func legacyTable(fd, level int, name string, entrySize, targetOff int) (bool, error) {
	if len(name) >= 32 {
		return true, nil
	}
	info := make([]byte, getinfoSize)
	copy(info, name)
	if err := getsockopt(fd, level, iptSoGetInfo, info); err != nil {
		return false, err
	}
	ne := binary.NativeEndian
	valid := ne.Uint32(info[32:])
	hookEntry := func(h int) uint32 { return ne.Uint32(info[36+4*h:]) }
	underflow := func(h int) uint32 { return ne.Uint32(info[56+4*h:]) }
	size := ne.Uint32(info[80:])

	entries := make([]byte, getEntriesHead+int(size))
	copy(entries, name)
	ne.PutUint32(entries[32:], size)
	if err := getsockopt(fd, level, iptSoGetEntries, entries); err != nil {
		return false, err
	}
	if !bytes.Equal(bytes.TrimRight(entries[:32], "\x00"), []byte(name)) {
		return true, nil
	}
	body := entries[getEntriesHead:]
	for _, h := range []int{unix.NF_INET_PRE_ROUTING, unix.NF_INET_LOCAL_IN} {
		if valid&(1<<h) == 0 {
			continue
		}
		if hookEntry(h) != underflow(h) {
			return true, nil // the chain has rules
		}
		off := int(underflow(h))
		if off+entrySize > len(body) {
			return true, nil
		}
		t := off + int(ne.Uint16(body[off+targetOff:]))
		if t+xtTargetHead+4 > len(body) {
			return true, nil
		}
		if int32(ne.Uint32(body[t+xtTargetHead:])) != verdictAccept {
			return true, nil // a policy that is not ACCEPT
		}
	}
	return false, nil
}
