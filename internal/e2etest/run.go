package e2etest

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"testing"
)

// Result is what a finished command printed and its exit code.
type Result struct {
	Stdout, Stderr string
	Code           int
}

// Run runs cmd to its end and captures what it prints. A non-zero exit is reported in
// Result.Code; only a command that cannot be run fails the test.
func Run(t testing.TB, cmd *exec.Cmd) Result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := Result{Stdout: stdout.String(), Stderr: stderr.String()}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		r.Code = exit.ExitCode()
	} else if err != nil {
		t.Fatalf("running %s: %v", cmd, err)
	}
	return r
}

// Client returns a command that runs the interlude CLI with args on the profile directory
// home, unlocked by pass, with the cheapest key derivation. Callers may add to its Env.
func Client(t testing.TB, home, pass string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(Binary(t, "interlude"), args...)
	cmd.Env = append(os.Environ(), "INTERLUDE_HOME="+home, "INTERLUDE_KDF=minimum", "INTERLUDE_PASSPHRASE="+pass)
	return cmd
}
