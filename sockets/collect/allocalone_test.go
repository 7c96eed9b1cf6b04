//go:build linux

package collect

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// allocsAloneEnv marks the test binary run for one allocation test alone.
const allocsAloneEnv = "PORTWATCH_TEST_ALLOCS_ALONE"

// alone runs the calling test in a test binary of its own, where no
// other test's goroutines run, and says whether this is that run (the
// caller goes on to measure) or the parent (the caller returns; the
// child's failure is its failure). testing.AllocsPerRun counts every
// goroutine's allocations: in this package earlier tests leave sources
// whose background readers (process events, firewall rounds) allocate
// while a measurement runs, and CI once counted 22,484 "allocations a
// dump" of a parse that makes none.
func alone(t *testing.T) bool {
	t.Helper()
	if os.Getenv(allocsAloneEnv) != "" {
		return true
	}
	name := strings.SplitN(t.Name(), "/", 2)[0]
	cmd := exec.Command(os.Args[0], "-test.run", "^"+name+"$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), allocsAloneEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err == nil && strings.Contains(string(out), "--- SKIP: "+name) {
		t.Skipf("%s alone skipped:\n%s", name, out)
	}
	if err != nil || !strings.Contains(string(out), "--- PASS: "+name) {
		t.Fatalf("%s alone: %v\n%s", name, err, out)
	}
	t.Logf("%s passed in a test binary of its own", name)
	return false
}
