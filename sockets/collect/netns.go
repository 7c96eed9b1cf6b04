//go:build linux

package collect

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/clean"
)

// netnsIndex knows which network namespace each process lives in. A
// process's namespace is read once (readlink of /proc/PID/ns/net), so a poll
// only looks at new processes.
type netnsIndex struct {
	procRoot string
	self     uint64
	ofPID    map[int32]uint64
	denied   map[int32]bool
	labels   map[uint64]string
	names    *containerNames
	// members and inodes are foreign's answer, their memory reused poll
	// after poll.
	members map[uint64][]int32
	inodes  []uint64
}

func newNetnsIndex(procRoot string) *netnsIndex {
	ix := &netnsIndex{procRoot: procRoot, ofPID: map[int32]uint64{}, denied: map[int32]bool{}, labels: map[uint64]string{}}
	ix.names = newContainerNames("/")
	ix.self, _ = readNetnsInode(filepath.Join(procRoot, "self/ns/net"))
	return ix
}

// readNetnsInode reads "net:[4026531833]".
func readNetnsInode(link string) (uint64, error) {
	target, err := os.Readlink(link)
	if err != nil {
		return 0, err
	}
	rest, ok := strings.CutPrefix(target, "net:[")
	if !ok || !strings.HasSuffix(rest, "]") {
		return 0, fmt.Errorf("odd namespace link %q", target)
	}
	return strconv.ParseUint(rest[:len(rest)-1], 10, 64)
}

// update reads the namespace of every new process (pids: lowest first)
// and forgets the dead.
func (ix *netnsIndex) update(pids []int32) {
	for _, pid := range pids {
		if _, ok := ix.ofPID[pid]; ok || ix.denied[pid] {
			continue
		}
		ino, err := readNetnsInode(filepath.Join(ix.procRoot, strconv.Itoa(int(pid)), "ns/net"))
		switch {
		case errors.Is(err, fs.ErrPermission):
			ix.denied[pid] = true
		// Not found (exited since the listing, or a zombie): asked again at
		// the next poll, where the pid may be a new process's, alone in a
		// namespace of its own.
		case err == nil:
			ix.ofPID[pid] = ino
		}
	}
	for pid := range ix.ofPID {
		if !listed(pids, pid) {
			delete(ix.ofPID, pid)
		}
	}
	for pid := range ix.denied {
		if !listed(pids, pid) {
			delete(ix.denied, pid)
		}
	}
}

// foreign lists the namespaces other than ours, each with its member pids
// (lowest first), in a stable order. The map, its lists and the inodes are
// the index's, filled again by the next call: a poll's, not to be kept.
func (ix *netnsIndex) foreign() (inodes []uint64, members map[uint64][]int32) {
	if ix.members == nil {
		ix.members = map[uint64][]int32{}
	}
	members = ix.members
	for ino, pids := range members {
		members[ino] = pids[:0]
	}
	for pid, ino := range ix.ofPID {
		if ino != ix.self && ix.self != 0 {
			members[ino] = append(members[ino], pid)
		}
	}
	inodes = ix.inodes[:0]
	for ino, pids := range members {
		if len(pids) == 0 {
			delete(members, ino) // a namespace gone since the last poll
			continue
		}
		slices.Sort(pids)
		inodes = append(inodes, ino)
	}
	slices.Sort(inodes)
	ix.inodes = inodes
	return inodes, members
}

// label names a namespace: "host", its name under /run/netns, the container
// a member runs in (by its name in the runtime's state where found, else by
// runtime and short id), or "netns:INODE". It is worked out once per
// namespace: a poll pays nothing for a namespace already labelled.
func (ix *netnsIndex) label(ino uint64, members []int32) string {
	if ino == ix.self {
		return sockets.HostNetns
	}
	if l, ok := ix.labels[ino]; ok {
		return l
	}
	l := namedNetns(ino)
	for _, pid := range members {
		if l != "" {
			break
		}
		if data, err := os.ReadFile(filepath.Join(ix.procRoot, strconv.Itoa(int(pid)), "cgroup")); err == nil {
			ref := parseContainerCgroup(string(data))
			if l = ix.names.label(ref); l == "" {
				l = ref.idLabel()
			}
		}
	}
	if l == "" {
		l = "netns:" + strconv.FormatUint(ino, 10)
	}
	ix.labels[ino] = l
	return l
}

// namedNetns finds a namespace made by `ip netns add NAME`: /run/netns/NAME
// is a bind mount of it, with the namespace's inode.
func namedNetns(ino uint64) string {
	entries, err := os.ReadDir("/run/netns")
	if err != nil {
		return ""
	}
	for _, e := range entries {
		var st syscall.Stat_t
		if syscall.Stat(filepath.Join("/run/netns", e.Name()), &st) == nil && st.Ino == ino {
			return clean.Text(e.Name()) // whoever ran ip netns add chose it
		}
	}
	return ""
}

// containerFromCgroup is the label a cgroup alone gives: the runtime and
// the container's short id (see containerRef.idLabel).
func containerFromCgroup(cgroup string) string {
	return parseContainerCgroup(cgroup).idLabel()
}

// containerRef is what a process's cgroup says about the container it runs
// in. id and podUID are raw text from the cgroup path (anyone who may make a
// cgroup chooses them): they are cleaned before they are shown, and checked
// for the shape of an id before they name a file.
type containerRef struct {
	runtime  string // docker, podman, containerd, nspawn, k8s-pod, kubepods; "" for none
	id       string // the container id; for nspawn the machine name
	podUID   string // the Kubernetes pod's uid, as the cgroup spells it
	ownerUID string // for a rootless podman container, the user (user@UID.service)
}

// idLabel names the container by runtime and short id, the label when no
// name is found in the runtime's state.
func (r containerRef) idLabel() string {
	switch r.runtime {
	case "":
		return ""
	case "kubepods":
		return "kubepods"
	case "nspawn":
		return "nspawn:" + clean.Text(r.id)
	}
	id := r.id
	if r.runtime == "k8s-pod" {
		// The systemd driver spells the uid's dashes as underscores.
		id = strings.ReplaceAll(r.podUID, "_", "-")
	}
	return r.runtime + ":" + shortID(id)
}

// parseContainerCgroup recognises the cgroup paths of container runtimes:
// docker, containerd (cri), podman (libpod, rootful or rootless),
// kubernetes pods, systemd-nspawn.
func parseContainerCgroup(cgroup string) containerRef {
	for _, line := range strings.Split(cgroup, "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		path := parts[2]
		var ref containerRef
		for _, el := range strings.Split(path, "/") {
			if ref.runtime != "" {
				break
			}
			switch {
			case strings.HasPrefix(el, "user@") && strings.HasSuffix(el, ".service"):
				ref.ownerUID = strings.TrimSuffix(strings.TrimPrefix(el, "user@"), ".service")
			case strings.HasPrefix(el, "docker-") && strings.HasSuffix(el, ".scope"):
				ref.runtime, ref.id = "docker", strings.TrimSuffix(strings.TrimPrefix(el, "docker-"), ".scope")
			case strings.HasPrefix(el, "libpod-") && strings.HasSuffix(el, ".scope") && !strings.HasPrefix(el, "libpod-conmon"):
				ref.runtime, ref.id = "podman", strings.TrimSuffix(strings.TrimPrefix(el, "libpod-"), ".scope")
			case strings.HasPrefix(el, "cri-containerd-") && strings.HasSuffix(el, ".scope"):
				ref.runtime, ref.id = "containerd", strings.TrimSuffix(strings.TrimPrefix(el, "cri-containerd-"), ".scope")
			case strings.HasPrefix(el, "crio-") && strings.HasSuffix(el, ".scope") && !strings.HasPrefix(el, "crio-conmon"):
				ref.runtime, ref.id = "crio", strings.TrimSuffix(strings.TrimPrefix(el, "crio-"), ".scope")
			case strings.HasPrefix(el, "systemd-nspawn@") && strings.HasSuffix(el, ".service"):
				name := strings.TrimSuffix(strings.TrimPrefix(el, "systemd-nspawn@"), ".service")
				ref.runtime, ref.id = "nspawn", strings.ReplaceAll(name, `\x2d`, "-")
			}
		}
		segs := strings.Split(strings.Trim(path, "/"), "/")
		inPods := false
	segments:
		for i, el := range segs {
			if el == "docker" && i+1 < len(segs) && ref.runtime == "" {
				ref.runtime, ref.id = "docker", segs[i+1]
				break
			}
			if strings.HasPrefix(el, "kubepods") {
				inPods = true
				for _, s := range segs[i+1:] {
					// pod<uid> (cgroupfs driver) or kubepods-<qos>-pod<uid>.slice
					// (systemd driver): the uid follows the last "-pod", not
					// the "pod" of "kubepods".
					if id, ok := strings.CutPrefix(s, "pod"); ok {
						ref.podUID = id
						break segments
					}
					if i := strings.LastIndex(s, "-pod"); i >= 0 {
						ref.podUID = strings.TrimSuffix(s[i+4:], ".slice")
						break segments
					}
				}
				break
			}
		}
		switch {
		case ref.runtime != "":
			return ref
		case ref.podUID != "":
			ref.runtime = "k8s-pod"
			return ref
		case inPods:
			return containerRef{runtime: "kubepods"}
		}
	}
	return containerRef{}
}

// shortID is a container id as docker shows it, its first 12 bytes: cleaned
// first, so the cut can neither split an escape sequence and leave its
// start raw, nor split a character (clean.Cut keeps whole ones).
func shortID(id string) string {
	return clean.Cut(clean.Text(id), 12)
}
