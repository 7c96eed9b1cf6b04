//go:build linux

package assess

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/portwatch/portwatch/sockets/sockettest"
)

// An interpreter no package installed (pyenv's, a virtualenv's, one built
// by hand) running `-m http.server` on loopback is what it says it is: the
// claim rests on its command line, which the file's provenance does not
// disprove. It is named python http.server, with no "in disguise" finding,
// and its risk is not HIGH; the unpackaged file is said (unpackaged-exe).
// Before, the SERVICE read "unknown" while a HIGH finding named the program.
func TestRealUnpackagedInterpreterIsNotADisguise(t *testing.T) {
	sockettest.NeedRoot(t, "for a root-owned directory outside every package")
	// Debian's own interpreter (a shim such as pyenv's is a script that
	// would run another file), copied where pyenv puts its builds.
	python, err := filepath.EvalSymlinks("/usr/bin/python3")
	if err != nil {
		t.Skip("no /usr/bin/python3")
	}
	data, err := os.ReadFile(python)
	if err != nil {
		t.Skip(err)
	}
	dir, err := os.MkdirTemp("/root", ".pwtest-pyenv-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	copyPath := filepath.Join(dir, "python3.11")
	if err := os.WriteFile(copyPath, data, 0o755); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	cmd := exec.Command(copyPath, "-m", "http.server", "--bind", "127.0.0.1", strconv.Itoa(int(port)))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	v := liveVerdict(t, "host", port)
	if v.Service == nil || !strings.Contains(v.Service.Program, "http.server") {
		t.Errorf("service %+v, want python http.server", v.Service)
	}
	if f := hasCode(v.Findings, CodeUnownedExe); f != nil {
		t.Errorf("an unpackaged interpreter running http.server is called a disguise: %s", f.Text)
	}
	if v.Risk == RiskHigh {
		t.Errorf("risk HIGH for python http.server on loopback: %+v", v.Findings)
	}
	if f := hasCode(v.Findings, CodeUnpackagedExe); f == nil || f.Severity != RiskLow || !strings.Contains(f.Text, "interpreter") {
		t.Errorf("the unpackaged interpreter is not said as one (LOW): %+v", v.Findings)
	}
}
