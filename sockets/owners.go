package sockets

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// socketInodes lists the socket inodes that one process holds open.
func socketInodes(procRoot string, pid int32) ([]uint64, error) {
	dir := filepath.Join(procRoot, strconv.Itoa(int(pid)), "fd")
	names, err := dirNames(dir)
	if err != nil {
		return nil, err
	}
	var inodes []uint64
	for _, n := range names {
		link, err := os.Readlink(dir + "/" + n)
		if err != nil { // closed since the listing: not an error
			continue
		}
		if ino, ok := parseSocketLink(link); ok {
			inodes = append(inodes, ino)
		}
	}
	return inodes, nil
}

// parseSocketLink reads "socket:[12345]".
func parseSocketLink(link string) (uint64, bool) {
	rest, ok := strings.CutPrefix(link, "socket:[")
	if !ok || !strings.HasSuffix(rest, "]") {
		return 0, false
	}
	ino, err := strconv.ParseUint(rest[:len(rest)-1], 10, 64)
	return ino, err == nil
}

// dirNames lists a directory's entries, unsorted: /proc needs no order.
func dirNames(dir string) ([]string, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.Readdirnames(-1)
}
