package sockets

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// ownerScan is the result of walking /proc/*/fd: which pids hold which socket
// inodes, and how many processes could not be looked at.
type ownerScan struct {
	owners map[uint64][]int32 // inode -> pids, in ascending pid order
	denied int                // processes whose fd table we may not read
}

// scanOwners walks every process's descriptor table under procRoot and maps
// each socket inode to every pid that holds it. gopsutil keeps only one pid
// per inode, which loses the workers of a pre-fork server and children that
// inherited a listener. Processes that exit mid-walk are skipped silently.
func scanOwners(procRoot string) (ownerScan, error) {
	scan := ownerScan{owners: map[uint64][]int32{}}
	entries, err := os.ReadDir(procRoot)
	if err != nil {
		return scan, err
	}
	for _, e := range entries {
		pid, err := strconv.ParseInt(e.Name(), 10, 32)
		if err != nil || pid <= 0 {
			continue
		}
		inodes, err := socketInodes(procRoot, int32(pid))
		if errors.Is(err, fs.ErrPermission) {
			scan.denied++
			continue
		}
		for _, ino := range inodes {
			scan.addOwner(ino, int32(pid))
		}
	}
	return scan, nil
}

func (s *ownerScan) addOwner(inode uint64, pid int32) {
	pids := s.owners[inode]
	for _, p := range pids {
		if p == pid { // the same socket on two descriptors of one process
			return
		}
	}
	s.owners[inode] = append(pids, pid)
}

// socketInodes lists the socket inodes that one process holds open.
func socketInodes(procRoot string, pid int32) ([]uint64, error) {
	dir := filepath.Join(procRoot, strconv.Itoa(int(pid)), "fd")
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
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
