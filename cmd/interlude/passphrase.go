package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"
)

// terminal returns stdin's file descriptor when stdin is a terminal.
func (c *cli) terminal() (int, bool) {
	f, ok := c.stdin.(*os.File)
	if !ok {
		return 0, false
	}
	fd := int(f.Fd())
	return fd, term.IsTerminal(fd)
}

// readSecretFile reads a passphrase file: the first line, without its line ending.
func readSecretFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read passphrase file: %w", err)
	}
	line, _, _ := bytes.Cut(b, []byte("\n"))
	line = bytes.TrimSuffix(line, []byte("\r"))
	if len(line) == 0 {
		return nil, fmt.Errorf("passphrase file %s is empty", path)
	}
	return line, nil
}

// passphrase returns the passphrase from --passphrase-file, else INTERLUDE_PASSPHRASE,
// else a prompt on the terminal without echo.
func (c *cli) passphrase(prompt string) ([]byte, error) {
	if c.passFile != "" {
		return readSecretFile(c.passFile)
	}
	if v := c.getenv(envPassphrase); v != "" {
		return []byte(v), nil
	}
	return c.prompt(prompt, envPassphrase, "--passphrase-file")
}

// newPassphrase returns a passphrase being set. From a file or the environment it is
// taken as is; on a terminal it is asked twice.
func (c *cli) newPassphrase(file, env, flagName string) ([]byte, error) {
	if file != "" {
		return readSecretFile(file)
	}
	if v := c.getenv(env); v != "" {
		return []byte(v), nil
	}
	fd, ok := c.terminal()
	if !ok {
		return nil, fmt.Errorf("no new passphrase: run this in a terminal, or give %s FILE or set %s", flagName, env)
	}
	fmt.Fprintln(c.stderr, "Choose a passphrase of several words you will remember. Nobody, including us, can reset it for you; only your recovery kit can.")
	for {
		fmt.Fprint(c.stderr, "New passphrase: ")
		p1, err := term.ReadPassword(fd)
		fmt.Fprintln(c.stderr)
		if err != nil {
			return nil, fmt.Errorf("read passphrase: %w", err)
		}
		fmt.Fprint(c.stderr, "Type it again: ")
		p2, err := term.ReadPassword(fd)
		fmt.Fprintln(c.stderr)
		if err != nil {
			return nil, fmt.Errorf("read passphrase: %w", err)
		}
		if bytes.Equal(p1, p2) {
			return p1, nil
		}
		fmt.Fprintln(c.stderr, "They differ; try again.")
	}
}

func (c *cli) prompt(prompt, env, flagName string) ([]byte, error) {
	fd, ok := c.terminal()
	if !ok {
		return nil, fmt.Errorf("no passphrase: run this in a terminal, or give %s FILE or set %s", flagName, env)
	}
	fmt.Fprint(c.stderr, prompt)
	p, err := term.ReadPassword(fd)
	fmt.Fprintln(c.stderr)
	if err != nil {
		return nil, fmt.Errorf("read passphrase: %w", err)
	}
	if len(p) == 0 {
		return nil, errors.New("no passphrase typed")
	}
	return p, nil
}

// lineReader reads answers to prompts from stdin (one per line).
type lineReader struct{ r *bufio.Reader }

func (c *cli) lines() *lineReader { return &lineReader{bufio.NewReader(c.stdin)} }

func (l *lineReader) ask(w io.Writer, prompt string) (string, error) {
	fmt.Fprint(w, prompt)
	s, err := l.r.ReadString('\n')
	if err != nil && (s == "" || !errors.Is(err, io.EOF)) {
		return "", err
	}
	return strings.TrimSpace(s), nil
}
