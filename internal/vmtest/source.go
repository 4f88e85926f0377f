package main

import (
	"fmt"
	"os"
	"path/filepath"
)

// fetchSource returns the path of the kernel source tarball of k
// (linux-source-NAME.tar.xz from Debian's linux-source-NAME package), fetched
// with the same private apt route as the kernel packages and kept in the
// cache under sources/NAME, so later calls download nothing.
func fetchSource(cache string, k kernel, logf func(string, ...any)) (string, error) {
	unlock, err := lockFile(filepath.Join(cache, "lock"))
	if err != nil {
		return "", err
	}
	defer unlock()
	dir := filepath.Join(cache, "sources", k.Name)
	tarball := filepath.Join(dir, "linux-source-"+k.Name+".tar.xz")
	if _, err := os.Stat(tarball); err == nil {
		return tarball, nil
	}
	logf("kernel %s: source not cached, downloading linux-source-%s from Debian %s", k.Name, k.Name, k.Suite)
	if err := os.RemoveAll(dir); err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	a, err := newAptRoot(cache, k.Suite)
	if err != nil {
		return "", err
	}
	debs, err := a.download(dir, []string{"linux-source-" + k.Name})
	if err != nil {
		return "", err
	}
	unpacked := filepath.Join(dir, "deb")
	if err := run("dpkg-deb", "-x", debs[0], unpacked); err != nil {
		return "", err
	}
	os.Remove(debs[0])
	src := filepath.Join(unpacked, "usr", "src", "linux-source-"+k.Name+".tar.xz")
	if err := os.Rename(src, tarball); err != nil {
		return "", fmt.Errorf("linux-source-%s: %w", k.Name, err)
	}
	return tarball, os.RemoveAll(unpacked)
}
