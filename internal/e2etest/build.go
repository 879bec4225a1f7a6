// Package e2etest is the harness of the end-to-end tests of Interlude's commands: it
// builds the real binaries once per test binary, runs interlude-server on a loopback
// port with its data in a temporary directory, and runs commands capturing what they
// print. Only tests import it.
//
// A package that uses it calls Main from its TestMain, so that the binaries are removed
// when its tests end.
package e2etest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

var (
	buildMu  sync.Mutex
	buildDir string                                // created by the first build; Main removes it
	builds   = map[string]func() (string, error){} // by command name, each run once
)

// Main runs the tests of m, removes the binaries Binary built and exits with the tests'
// exit code. Call it from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	removeBinaries()
	os.Exit(code)
}

// Binary returns the path of the command ./cmd/NAME of this module (e.g.
// "interlude-server"), built on its first use in this test binary and shared by all its
// tests; a failed build fails the test.
func Binary(t testing.TB, name string) string {
	t.Helper()
	path, err := buildOnce(name)()
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// buildOnce returns the function that builds the command name the first time it is called
// and returns the same result every time.
func buildOnce(name string) func() (string, error) {
	buildMu.Lock()
	defer buildMu.Unlock()
	b, ok := builds[name]
	if !ok {
		b = sync.OnceValues(func() (string, error) { return build(name) })
		builds[name] = b
	}
	return b
}

func build(name string) (string, error) {
	dir, err := binaryDir()
	if err != nil {
		return "", err
	}
	out := filepath.Join(dir, name)
	pkg := "interlude/cmd/" + name
	if msg, err := exec.Command("go", "build", "-o", out, pkg).CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %v\n%s", pkg, err, msg)
	}
	return out, nil
}

// binaryDir returns the directory the binaries are built in, creating it the first time.
func binaryDir() (string, error) {
	buildMu.Lock()
	defer buildMu.Unlock()
	if buildDir == "" {
		dir, err := os.MkdirTemp("", "interlude-e2e-bin")
		if err != nil {
			return "", fmt.Errorf("creating a directory for the test binaries: %w", err)
		}
		buildDir = dir
	}
	return buildDir, nil
}

func removeBinaries() {
	buildMu.Lock()
	defer buildMu.Unlock()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
}
