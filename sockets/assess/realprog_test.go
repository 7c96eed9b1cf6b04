//go:build linux

package assess

import (
	"os"
	"path/filepath"
	"testing"
)

// scriptFile writes a Python program to a file of the test's: a service
// runs a script, and inline code (python3 -c) is a finding of its own. As
// root the file is under /var/lib, as a service's would be: a script in
// /tmp is a finding too.
func scriptFile(t *testing.T, code string) string {
	t.Helper()
	path := filepath.Join(rootDir(t), "service.py")
	if err := os.WriteFile(path, []byte(code), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// rootDir is a directory of the test's that only root may write (removed
// at cleanup), or the test's temporary directory when not root.
func rootDir(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		return t.TempDir()
	}
	dir, err := os.MkdirTemp("/var/lib", "portwatch-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}
