//go:build linux

package collect

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/portwatch/portwatch/sockets/clean"
)

// Container names come from the runtimes' own state on disk: plain files,
// read without a CLI and without an API socket (a JSON file is cheaper and
// needs no daemon that answers). Each file is read with a size cap, never
// through a symlink, and only when owned by root (or, for a rootless podman
// store, by its user): a user who could plant a file there could name
// another user's container.
const (
	maxDockerConfig = 1 << 20  // a config.v2.json is a few KiB
	maxPodmanStore  = 16 << 20 // containers.json: about 1 KiB per container
	maxPodDirs      = 10000    // entries of /var/log/pods read at most
	maxNameBytes    = 128      // a name is cut to this once cleaned
)

// Where each runtime keeps its state, below the resolver's root.
const (
	dockerContainers = "var/lib/docker/containers"
	podmanRootful    = "var/lib/containers/storage/overlay-containers"
	podmanRootless   = ".local/share/containers/storage/overlay-containers" // below the user's home
	kubeletPodLogs   = "var/log/pods"
)

var (
	fullContainerID = regexp.MustCompile(`^[0-9a-f]{64}$`)
	podUIDShape     = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
)

// containerNames finds a container's name in its runtime's state, caching
// each file by its modification time and size, so a namespace labelled once
// costs nothing more (the netns index caches labels by namespace) and a new
// namespace of a known container costs one lstat.
type containerNames struct {
	root   string                           // "/" on the machine, a testdata tree in tests
	admin  uint32                           // the owner trusted besides a store's user: root
	homeOf func(uid string) (string, error) // a user's home directory
	docker map[string]cachedName            // by container id
	stores map[string]cachedStore           // podman stores, by file path
	pods   cachedStore                      // /var/log/pods: pod uid -> "namespace/pod"
}

type fileStamp struct {
	mtime time.Time
	size  int64
	ino   uint64
}

type cachedName struct {
	stamp fileStamp
	name  string
}

type cachedStore struct {
	stamp fileStamp
	names map[string]string
}

func newContainerNames(root string) *containerNames {
	return &containerNames{
		root: root, homeOf: homeOfUser,
		docker: map[string]cachedName{}, stores: map[string]cachedStore{},
	}
}

func homeOfUser(uid string) (string, error) {
	u, err := user.LookupId(uid)
	if err != nil {
		return "", err
	}
	return u.HomeDir, nil
}

// label names the container of ref, "" when its runtime's state does not:
// docker:NAME, podman:NAME, k8s:NAMESPACE/POD. The name is clean text
// (whoever starts a container chooses it).
func (c *containerNames) label(ref containerRef) string {
	if ref.podUID != "" {
		if pod := c.pod(ref.podUID); pod != "" {
			return "k8s:" + pod
		}
	}
	var name string
	switch ref.runtime {
	case "docker":
		name = c.dockerName(ref.id)
	case "podman":
		name = c.podmanName(ref)
	}
	if name == "" {
		return ""
	}
	return ref.runtime + ":" + name
}

// dockerName reads "Name" from the container's config.v2.json, which
// dockerd rewrites on every change of the container (so a rename shows).
func (c *containerNames) dockerName(id string) string {
	if !fullContainerID.MatchString(id) {
		return ""
	}
	base := filepath.Join(c.root, dockerContainers)
	rel := []string{id, "config.v2.json"}
	st, err := stampOf(base, rel)
	if err != nil {
		return ""
	}
	if hit, ok := c.docker[id]; ok && hit.stamp == st {
		return hit.name
	}
	data, st, err := readStateFile(base, rel, maxDockerConfig, c.admin, c.admin)
	if err != nil {
		return ""
	}
	var cfg struct {
		ID   string
		Name string
	}
	name := ""
	if json.Unmarshal(data, &cfg) == nil && cfg.ID == id {
		name = cleanName(strings.TrimPrefix(cfg.Name, "/"))
	}
	c.docker[id] = cachedName{st, name}
	return name
}

// podmanName reads the container's first name from the containers/storage
// store podman writes: root's for a container of root, the user's own (in
// their home, files owned by them or root) for a rootless container.
func (c *containerNames) podmanName(ref containerRef) string {
	if !fullContainerID.MatchString(ref.id) {
		return ""
	}
	base, dirs, owner := filepath.Join(c.root, podmanRootful), []string(nil), c.admin
	if ref.ownerUID != "" && ref.ownerUID != "0" {
		uid, err := strconv.ParseUint(ref.ownerUID, 10, 32)
		if err != nil {
			return ""
		}
		home, err := c.homeOf(ref.ownerUID)
		if err != nil || !filepath.IsAbs(home) {
			return ""
		}
		// Every directory below the home is the user's to make a
		// symlink of: none is followed.
		base, dirs, owner = home, strings.Split(podmanRootless, "/"), uint32(uid)
	}
	// podman keeps containers made with --rm in volatile-containers.json.
	for _, file := range []string{"containers.json", "volatile-containers.json"} {
		if name := c.storeName(base, append(dirs, file), owner, ref.id); name != "" {
			return name
		}
	}
	return ""
}

func (c *containerNames) storeName(base string, rel []string, owner uint32, id string) string {
	key := filepath.Join(append([]string{base}, rel...)...)
	st, err := stampOf(base, rel)
	if err != nil {
		return ""
	}
	if hit, ok := c.stores[key]; ok && hit.stamp == st {
		return hit.names[id]
	}
	data, st, err := readStateFile(base, rel, maxPodmanStore, owner, c.admin)
	if err != nil {
		return ""
	}
	var entries []struct {
		ID    string   `json:"id"`
		Names []string `json:"names"`
	}
	names := map[string]string{}
	if json.Unmarshal(data, &entries) == nil {
		for _, e := range entries {
			if fullContainerID.MatchString(e.ID) && len(e.Names) > 0 {
				names[e.ID] = cleanName(e.Names[0])
			}
		}
	}
	c.stores[key] = cachedStore{st, names}
	return names[id]
}

// pod finds a pod's namespace and name from the kubelet's log directories,
// /var/log/pods/NAMESPACE_POD_UID, which containerd and CRI-O hosts alike
// have. The cgroup spells the uid with _ for - under the systemd driver.
func (c *containerNames) pod(rawUID string) string {
	uid := strings.ReplaceAll(rawUID, "_", "-")
	if !podUIDShape.MatchString(uid) {
		return ""
	}
	dir := filepath.Join(c.root, kubeletPodLogs)
	st, err := stampOf(filepath.Dir(dir), []string{filepath.Base(dir)})
	if err != nil {
		return ""
	}
	if c.pods.names != nil && c.pods.stamp == st {
		return c.pods.names[uid]
	}
	names, st, err := readPodDirs(dir, c.admin)
	if err != nil {
		return ""
	}
	c.pods = cachedStore{st, names}
	return names[uid]
}

func readPodDirs(dir string, admin uint32) (map[string]string, fileStamp, error) {
	fd, err := syscall.Open(dir, syscall.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, fileStamp{}, err
	}
	f := os.NewFile(uintptr(fd), dir)
	defer f.Close()
	st, err := trustedStamp(f, admin, admin)
	if err != nil {
		return nil, st.fileStamp, err
	}
	entries, err := f.ReadDir(maxPodDirs)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, st.fileStamp, err
	}
	names := map[string]string{}
	for _, e := range entries {
		// Kubernetes namespaces and pod names are DNS labels and
		// subdomains: neither holds an underscore.
		parts := strings.Split(e.Name(), "_")
		if len(parts) == 3 && podUIDShape.MatchString(parts[2]) && parts[0] != "" && parts[1] != "" {
			names[parts[2]] = cleanName(parts[0] + "/" + parts[1])
		}
	}
	return names, st.fileStamp, nil
}

// cleanName makes a name from a state file fit to show, and "" (so the
// label keeps the id) when it holds white space once cleaned: no runtime
// allows one, and a label is a field of a baseline line, split at spaces.
func cleanName(s string) string {
	s = clean.Cut(clean.Text(s), maxNameBytes)
	if strings.ContainsAny(s, " \u00a0") {
		return ""
	}
	return s
}

// stampOf stats base/rel... for the cache check; like readStateFile it
// refuses a symlink anywhere below base, so a cache hit never goes where a
// read would not.
func stampOf(base string, rel []string) (fileStamp, error) {
	path := base
	fi, err := os.Stat(path)
	for i := 0; err == nil && i < len(rel); i++ {
		if fi.Mode()&os.ModeSymlink != 0 {
			break
		}
		path = filepath.Join(path, rel[i])
		fi, err = os.Lstat(path)
	}
	if err != nil {
		return fileStamp{}, err
	}
	if fi.Mode()&os.ModeSymlink != 0 {
		return fileStamp{}, fmt.Errorf("%s: a symlink", path)
	}
	st, _ := fi.Sys().(*syscall.Stat_t)
	if st == nil {
		return fileStamp{}, fmt.Errorf("%s: no stat", path)
	}
	return fileStamp{fi.ModTime(), fi.Size(), st.Ino}, nil
}

// readStateFile reads base/rel... whole, at most limit bytes. base is the
// runtime's state directory, made by root where only root writes
// (/var/lib/docker may be a symlink to a bigger disk) or a user's home; every
// directory below it and the file are opened one at a time with O_NOFOLLOW,
// so a symlink there, even one swapped in while it reads, is refused. Each
// must belong to owner or admin, and the file must be a regular file (a
// FIFO would block the poll, a device never ends).
func readStateFile(base string, rel []string, limit int64, owner, admin uint32) ([]byte, fileStamp, error) {
	dirfd, err := syscall.Open(base, syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, fileStamp{}, fmt.Errorf("%s: %w", base, err)
	}
	for i, name := range rel {
		flags := syscall.O_RDONLY | syscall.O_NOFOLLOW | syscall.O_CLOEXEC | syscall.O_NONBLOCK
		if i < len(rel)-1 {
			flags |= syscall.O_DIRECTORY
		}
		if err := checkOwner(dirfd, owner, admin); err != nil {
			syscall.Close(dirfd)
			return nil, fileStamp{}, fmt.Errorf("%s: %w", base, err)
		}
		fd, err := syscall.Openat(dirfd, name, flags, 0)
		syscall.Close(dirfd)
		if err != nil {
			return nil, fileStamp{}, fmt.Errorf("%s: %w", name, err)
		}
		dirfd = fd
	}
	f := os.NewFile(uintptr(dirfd), filepath.Join(append([]string{base}, rel...)...))
	defer f.Close()
	st, err := trustedStamp(f, owner, admin)
	if err != nil {
		return nil, st.fileStamp, err
	}
	if !st.regular {
		return nil, st.fileStamp, fmt.Errorf("%s: not a regular file", f.Name())
	}
	if st.size > limit {
		return nil, st.fileStamp, fmt.Errorf("%s: %d bytes, more than %d", f.Name(), st.size, limit)
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err == nil && int64(len(data)) > limit {
		err = fmt.Errorf("%s: more than %d bytes", f.Name(), limit)
	}
	return data, st.fileStamp, err
}

type openStamp struct {
	fileStamp
	regular bool
}

func checkOwner(fd int, owner, admin uint32) error {
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		return err
	}
	if st.Uid != owner && st.Uid != admin {
		return fmt.Errorf("owned by uid %d, not %d or %d", st.Uid, owner, admin)
	}
	return nil
}

func trustedStamp(f *os.File, owner, admin uint32) (openStamp, error) {
	if err := checkOwner(int(f.Fd()), owner, admin); err != nil {
		return openStamp{}, fmt.Errorf("%s: %w", f.Name(), err)
	}
	fi, err := f.Stat()
	if err != nil {
		return openStamp{}, err
	}
	st := fi.Sys().(*syscall.Stat_t)
	return openStamp{fileStamp{fi.ModTime(), fi.Size(), st.Ino}, fi.Mode().IsRegular()}, nil
}
