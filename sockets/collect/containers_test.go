//go:build linux

package collect

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The recorded state in testdata/containers is laid out as the runtimes
// write it: dockerd's config.v2.json, podman's containers/storage
// containers.json (root's and a rootless user's), the kubelet's /var/log/pods.
const (
	tdDockerID  = "3f4e2a1b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f"
	tdPodmanID  = "9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b"
	tdRootless  = "1b2c3d4e5f60718293a4b5c6d7e8f90112233445566778899aabbccddeeff001"
	tdPodUID    = "5f0c3b7e-8a41-4d2c-9e6b-1a2b3c4d5e6f"
	tdAliceUID  = "1000"
	tdDockerCfg = "var/lib/docker/containers/" + tdDockerID + "/config.v2.json"
)

// recordedState copies testdata/containers into a directory of the test's
// own (so a test may spoil it) and returns a resolver rooted there, trusting
// files owned by the user running the test as it trusts root's.
func recordedState(t *testing.T) (*containerNames, string) {
	t.Helper()
	root := t.TempDir()
	if err := os.CopyFS(root, os.DirFS("testdata/containers")); err != nil {
		t.Fatal(err)
	}
	c := newContainerNames(root)
	c.admin = uint32(os.Geteuid())
	c.homeOf = func(uid string) (string, error) {
		if uid == tdAliceUID {
			return filepath.Join(root, "home/alice"), nil
		}
		return "", fmt.Errorf("no user %s", uid)
	}
	return c, root
}

func TestContainerNamesFromRecordedState(t *testing.T) {
	c, _ := recordedState(t)
	cases := []struct {
		cgroup, want string
	}{
		{"0::/system.slice/docker-" + tdDockerID + ".scope\n", "docker:shop-web-1"},
		{"12:pids:/docker/" + tdDockerID + "\n0::/\n", "docker:shop-web-1"},
		{"0::/machine.slice/libpod-" + tdPodmanID + ".scope/container\n", "podman:redis-cache"},
		{"0::/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" + tdRootless + ".scope/container\n", "podman:alice-notebook"},
		{"0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" + strings.ReplaceAll(tdPodUID, "-", "_") + ".slice/cri-containerd-" + tdDockerID + ".scope\n", "k8s:default/web-7d4b9c6f5-x2x9q"},
		{"0::/kubepods/burstable/pod" + tdPodUID + "/0123abcd\n", "k8s:default/web-7d4b9c6f5-x2x9q"},
		{"0::/kubepods.slice/kubepods-pod0e1f2a3b_4c5d_4e6f_8a9b_0c1d2e3f4a5b.slice/crio-" + tdPodmanID + ".scope\n", "k8s:kube-system/coredns-76f75df574-abcde"},
		// Unknown to the state: the label falls back to runtime and short id.
		{"0::/system.slice/docker-" + strings.Repeat("ab", 32) + ".scope\n", "docker:abababababab"},
		{"0::/machine.slice/libpod-" + tdRootless + ".scope\n", "podman:1b2c3d4e5f60"}, // root's store does not hold alice's
		{"0::/user.slice/user-1001.slice/user@1001.service/user.slice/libpod-" + tdRootless + ".scope\n", "podman:1b2c3d4e5f60"},
		{"0::/kubepods/pod00000000-0000-0000-0000-000000000000/x\n", "k8s-pod:00000000-000"},
		{"0::/machine.slice/systemd-nspawn@my\\x2dbox.service/payload\n", "nspawn:my-box"},
	}
	for _, tc := range cases {
		ref := parseContainerCgroup(tc.cgroup)
		got := c.label(ref)
		if got == "" {
			got = ref.idLabel()
		}
		if got != tc.want {
			t.Errorf("%q: got %q, want %q", tc.cgroup, got, tc.want)
		}
	}
}

// TestContainerNameCacheFollowsMtime: a second look at a container reads
// nothing while its file is unchanged (the file is rewritten with the same
// size and time: the old name stays), and reads it again once dockerd would
// have rewritten it (a rename).
func TestContainerNameCacheFollowsMtime(t *testing.T) {
	c, root := recordedState(t)
	path := filepath.Join(root, tdDockerCfg)
	if got := c.dockerName(tdDockerID); got != "shop-web-1" {
		t.Fatalf("first read: %q", got)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	renamed := strings.Replace(string(data), `"Name":"/shop-web-1"`, `"Name":"/shop-web-2"`, 1)
	if err := os.WriteFile(path, []byte(renamed), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, fi.ModTime(), fi.ModTime()); err != nil {
		t.Fatal(err)
	}
	if got := c.dockerName(tdDockerID); got != "shop-web-1" {
		t.Errorf("unchanged stamp: got %q, want the cached name (the file was read again)", got)
	}
	later := fi.ModTime().Add(time.Second)
	if err := os.Chtimes(path, later, later); err != nil {
		t.Fatal(err)
	}
	if got := c.dockerName(tdDockerID); got != "shop-web-2" {
		t.Errorf("after a rewrite: got %q, want the new name", got)
	}
}

// TestHostileContainerNamesAreCleaned: a name with escape bytes, in each
// runtime's state, reaches the label with its escapes shown; a very long
// one is cut.
func TestHostileContainerNamesAreCleaned(t *testing.T) {
	c, root := recordedState(t)
	cfg := filepath.Join(root, tdDockerCfg)
	data, _ := os.ReadFile(cfg)
	hostile := strings.Replace(string(data), `"Name":"/shop-web-1"`, `"Name":"/\u001b]0;pwned\u0007web\u009b2J\u202e"`, 1)
	if err := os.WriteFile(cfg, []byte(hostile), 0o600); err != nil {
		t.Fatal(err)
	}
	store := filepath.Join(root, podmanRootful, "containers.json")
	long := strings.Repeat("\x1b", 200)
	body, _ := json.Marshal([]map[string]any{{"id": tdPodmanID, "names": []string{long}}})
	if err := os.WriteFile(store, body, 0o600); err != nil {
		t.Fatal(err)
	}
	pods := filepath.Join(root, kubeletPodLogs)
	if err := os.Mkdir(filepath.Join(pods, "ns\x1b[2J_pod\x07x_00000000-0000-0000-0000-0000000000aa"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(pods, "default_two\nlines_00000000-0000-0000-0000-0000000000bb"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ cgroup, want string }{
		// A space would split a baseline line: no name, the id stays.
		{"0::/kubepods/pod00000000-0000-0000-0000-0000000000bb/x\n", ""},
		{"0::/system.slice/docker-" + tdDockerID + ".scope\n", `docker:\x1b]0;pwned\x07web\x9b2J\u202e`},
		{"0::/machine.slice/libpod-" + tdPodmanID + ".scope\n", "podman:" + strings.Repeat(`\x1b`, maxNameBytes/4)},
		{"0::/kubepods/pod00000000-0000-0000-0000-0000000000aa/x\n", `k8s:ns\x1b[2J/pod\x07x`},
	} {
		got := c.label(parseContainerCgroup(tc.cgroup))
		assertClean(t, "container name", got)
		if got != tc.want {
			t.Errorf("%q: got %q, want %q", tc.cgroup, got, tc.want)
		}
	}
}

// TestHostileContainerStateIsRefused: a 100 MB config (sparse: it costs no
// disk), a symlinked container directory, a symlinked file, a FIFO, an id
// that climbs out of the state directory, a symlink in a rootless user's
// store and a store owned by another user: each gives no name (the label
// falls back to the id), quickly and without reading the file.
func TestHostileContainerStateIsRefused(t *testing.T) {
	dockerCgroup := parseContainerCgroup("0::/system.slice/docker-" + tdDockerID + ".scope\n")
	spoil := map[string]func(t *testing.T, root string){
		"100 MB config": func(t *testing.T, root string) {
			if err := os.Truncate(filepath.Join(root, tdDockerCfg), 100<<20); err != nil {
				t.Fatal(err)
			}
		},
		"symlinked container directory": func(t *testing.T, root string) {
			dir := filepath.Join(root, dockerContainers, tdDockerID)
			elsewhere := filepath.Join(root, "elsewhere")
			if err := os.Rename(dir, elsewhere); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(elsewhere, dir); err != nil {
				t.Fatal(err)
			}
		},
		"symlinked config": func(t *testing.T, root string) {
			cfg := filepath.Join(root, tdDockerCfg)
			if err := os.Rename(cfg, cfg+".real"); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(cfg+".real", cfg); err != nil {
				t.Fatal(err)
			}
		},
		"FIFO config": func(t *testing.T, root string) {
			cfg := filepath.Join(root, tdDockerCfg)
			os.Remove(cfg)
			if err := syscall.Mkfifo(cfg, 0o600); err != nil {
				t.Fatal(err)
			}
		},
		"config of another id": func(t *testing.T, root string) {
			cfg := filepath.Join(root, tdDockerCfg)
			data, _ := os.ReadFile(cfg)
			other := strings.Replace(string(data), `"ID":"`+tdDockerID, `"ID":"`+strings.Repeat("0", 64), 1)
			if err := os.WriteFile(cfg, []byte(other), 0o600); err != nil {
				t.Fatal(err)
			}
		},
	}
	for name, f := range spoil {
		t.Run(name, func(t *testing.T) {
			c, root := recordedState(t)
			f(t, root)
			start := time.Now()
			if got := c.label(dockerCgroup); got != "" {
				t.Errorf("got %q, want no name", got)
			}
			if d := time.Since(start); d > time.Second {
				t.Errorf("took %v: the file was read", d)
			}
		})
	}

	t.Run("id that climbs out", func(t *testing.T) {
		c, _ := recordedState(t)
		ref := parseContainerCgroup("0::/system.slice/docker-../../../../etc.scope\n")
		if got := c.label(ref); got != "" {
			t.Errorf("got %q", got)
		}
	})

	rootless := parseContainerCgroup("0::/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" + tdRootless + ".scope\n")
	t.Run("symlink in a rootless store", func(t *testing.T) {
		c, root := recordedState(t)
		share := filepath.Join(root, "home/alice/.local/share")
		if err := os.Rename(share, share+".real"); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(share+".real", share); err != nil {
			t.Fatal(err)
		}
		if got := c.label(rootless); got != "" {
			t.Errorf("got %q, want no name through a symlink", got)
		}
	})
	t.Run("rootless store owned by another user", func(t *testing.T) {
		if os.Geteuid() != 0 {
			t.Skip("needs root to give a file to another user")
		}
		c, root := recordedState(t)
		c.admin = 0
		home := filepath.Join(root, "home/alice")
		own := func(uid int) {
			filepath.Walk(home, func(p string, _ os.FileInfo, err error) error {
				if err == nil {
					err = os.Lchown(p, uid, uid)
				}
				return err
			})
		}
		own(1000)
		if got := c.label(rootless); got != "podman:alice-notebook" {
			t.Fatalf("alice's own store: got %q", got)
		}
		c2 := newContainerNames(root)
		c2.homeOf = c.homeOf
		own(1001) // someone else's files in alice's home
		if got := c2.label(rootless); got != "" {
			t.Errorf("a store owned by uid 1001 named alice's container: %q", got)
		}
	})
}

// TestContainerNameOfARealNamespace: a real process in a network namespace
// of its own, in a real cgroup named as dockerd names a container's scope,
// is labelled by the container's name from the recorded state.
func TestContainerNameOfARealNamespace(t *testing.T) {
	cgRoot := cgroup2Root(t)
	py := pythonPath(t)
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("unshare is not installed")
	}
	c, _ := recordedState(t)
	child := startChild(t, exec.Command("unshare", "--net", "--", py, "-c", listenScript, "0.0.0.0"))
	child.port(t)
	// A scope of the test's own: the id differs from the recorded one in
	// its last 8 digits (this process's pid), and a config for it is
	// recorded under that id.
	id := tdDockerID[:56] + fmt.Sprintf("%08x", os.Getpid())
	src := filepath.Join(c.root, tdDockerCfg)
	data, _ := os.ReadFile(src)
	dir := filepath.Join(c.root, dockerContainers, id)
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	cfg := strings.ReplaceAll(string(data), tdDockerID, id)
	cfg = strings.Replace(cfg, `"Name":"/shop-web-1"`, `"Name":"/pwtest-`+strconv.Itoa(os.Getpid())+`"`, 1)
	if err := os.WriteFile(filepath.Join(dir, "config.v2.json"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	moveToCgroup(t, cgRoot, "docker-"+id+".scope", child)

	ix := newNetnsIndex("/proc")
	ix.names = c
	ix.update([]int32{int32(child.pid())})
	inodes, members := ix.foreign()
	var ino uint64
	for _, i := range inodes {
		if len(members[i]) == 1 && int(members[i][0]) == child.pid() {
			ino = i
		}
	}
	if ino == 0 {
		t.Fatalf("the child's namespace is not foreign: %v", inodes)
	}
	want := "docker:pwtest-" + strconv.Itoa(os.Getpid())
	if got := ix.label(ino, members[ino]); got != want {
		t.Errorf("label %q, want %q", got, want)
	}
	// Labelled once: the state is not read again for this namespace.
	os.RemoveAll(dir)
	if got := ix.label(ino, members[ino]); got != want {
		t.Errorf("second label %q, want the cached %q", got, want)
	}
}

// TestSymlinkedPodLogsAreRefused: /var/log/pods as a symlink names no pod.
func TestSymlinkedPodLogsAreRefused(t *testing.T) {
	c, root := recordedState(t)
	pods := filepath.Join(root, kubeletPodLogs)
	if err := os.Rename(pods, pods+".real"); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(pods+".real", pods); err != nil {
		t.Fatal(err)
	}
	if got := c.pod(tdPodUID); got != "" {
		t.Errorf("got %q through a symlink", got)
	}
}

// FuzzContainerState: whatever a Docker config or a Podman store holds, the
// label is clean text and the resolver does not panic.
func FuzzContainerState(f *testing.F) {
	data, err := os.ReadFile(filepath.Join("testdata/containers", tdDockerCfg))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add([]byte(`{"ID":"` + tdDockerID + `","Name":"/\u001b[2J\ud800"}`))
	f.Add([]byte(`[{"id":"` + tdDockerID + `","names":["\u009b","x"]}]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		c, root := recordedState(t)
		if err := os.WriteFile(filepath.Join(root, tdDockerCfg), body, 0o600); err != nil {
			t.Fatal(err)
		}
		store := filepath.Join(root, podmanRootful, "containers.json")
		if err := os.WriteFile(store, body, 0o600); err != nil {
			t.Fatal(err)
		}
		for _, cg := range []string{"0::/system.slice/docker-" + tdDockerID + ".scope\n", "0::/machine.slice/libpod-" + tdDockerID + ".scope\n"} {
			mustBeClean(t, "container label", c.label(parseContainerCgroup(cg)))
		}
	})
}

// TestStateFileReadIsBounded: a file over the cap is refused before it is
// read (a sparse 100 MB file: no disk used), one at the cap is read whole.
func TestStateFileReadIsBounded(t *testing.T) {
	dir := t.TempDir()
	me := uint32(os.Geteuid())
	for size, wantErr := range map[int64]bool{100 << 20: true, maxDockerConfig + 1: true, maxDockerConfig: false} {
		name := fmt.Sprintf("f%d", size)
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Truncate(filepath.Join(dir, name), size); err != nil {
			t.Fatal(err)
		}
		data, _, err := readStateFile(dir, []string{name}, maxDockerConfig, me, me)
		if (err != nil) != wantErr {
			t.Errorf("%d bytes: err %v, want an error: %v", size, err, wantErr)
		}
		if wantErr && data != nil {
			t.Errorf("%d bytes: read %d bytes of a refused file", size, len(data))
		}
		if !wantErr && int64(len(data)) != size {
			t.Errorf("%d bytes: read %d", size, len(data))
		}
	}
}
