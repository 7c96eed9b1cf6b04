//go:build linux

package pkgproof

import (
	"crypto/md5"
	"encoding/hex"
	"io"
	"os"
)

// md5File hashes the file the process runs, read through /proc/PID/exe:
// the file as the process sees it, even if its path now leads elsewhere.
// The caller bounds the size.
func md5File(link string) (string, error) {
	f, err := os.Open(link)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := md5.New()
	if _, err := io.Copy(h, io.LimitReader(f, MaxHashBytes)); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
