package e2etest

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"syscall"
	"testing"
	"time"
)

const (
	startTimeout = 30 * time.Second // for the server to print its address
	stopTimeout  = 20 * time.Second // for the server to exit after SIGTERM
)

// ServerConfig says how to run interlude-server; the zero value is a quiet server on
// fresh temporary directories.
type ServerConfig struct {
	Data     string // --data; a new temporary directory if empty
	LogFile  string // the file its stderr is appended to; one in a new temporary directory if empty
	LogLevel string // --log-level; "warn" if empty
}

// Server is a running interlude-server process.
type Server struct {
	Data    string // its data directory
	LogFile string // the file its stderr goes to
	Addr    string // the host:port it listens on

	logLevel string
	cmd      *exec.Cmd     // nil once stopped
	done     chan struct{} // closed when the process has exited and its log is closed
}

// StartServer starts interlude-server on a free loopback port and waits for the address it
// prints. It is stopped when the test and its subtests end.
func StartServer(t testing.TB, cfg ServerConfig) *Server {
	t.Helper()
	s := &Server{Data: cfg.Data, LogFile: cfg.LogFile, logLevel: cfg.LogLevel}
	if s.Data == "" {
		s.Data = filepath.Join(t.TempDir(), "server-data")
	}
	if s.LogFile == "" {
		s.LogFile = filepath.Join(t.TempDir(), "interlude-server.log")
	}
	if s.logLevel == "" {
		s.logLevel = "warn"
	}
	s.start(t, "127.0.0.1:0")
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Log(err)
		}
	})
	return s
}

// URL is the address the client is given with --server.
func (s *Server) URL() string { return "ws://" + s.Addr }

// Stop sends SIGTERM and waits for the server to exit. A server still running after 20s
// is killed, and Stop says so. Stopping a stopped server does nothing.
func (s *Server) Stop() error {
	if s.cmd == nil {
		return nil
	}
	proc := s.cmd.Process
	s.cmd = nil
	proc.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
		return nil
	case <-time.After(stopTimeout):
		proc.Kill()
		<-s.done
		return fmt.Errorf("interlude-server did not stop within %s of SIGTERM", stopTimeout)
	}
}

// Restart stops the server and starts it again on the same address and data.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	if err := s.Stop(); err != nil {
		t.Log(err)
	}
	s.start(t, s.Addr)
}

var listenLine = regexp.MustCompile(`listening addr=(\S+)`)

// start runs the server on listen and waits (bounded) for the address it prints.
func (s *Server) start(t testing.TB, listen string) {
	t.Helper()
	log, err := os.OpenFile(s.LogFile, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatalf("opening the server's log: %v", err)
	}
	cmd := exec.Command(Binary(t, "interlude-server"), "--listen", listen, "--data", s.Data, "--log-level", s.logLevel)
	cmd.Stderr = log
	stdout, err := cmd.StdoutPipe()
	if err == nil {
		err = cmd.Start()
	}
	if err != nil {
		log.Close()
		t.Fatalf("starting interlude-server: %v", err)
	}
	addr := make(chan string, 1)
	go sendListenAddr(stdout, addr)
	done := make(chan struct{})
	go func() { cmd.Wait(); log.Close(); close(done) }()
	select {
	case s.Addr = <-addr:
		s.cmd, s.done = cmd, done
	case <-done:
		t.Fatalf("interlude-server exited before listening; its log:\n%s", readLog(s.LogFile))
	case <-time.After(startTimeout):
		cmd.Process.Kill()
		<-done
		t.Fatalf("interlude-server did not print its address within %s; its log:\n%s", startTimeout, readLog(s.LogFile))
	}
}

// sendListenAddr reads the server's stdout to its end and sends the address named by its
// first "listening" line.
func sendListenAddr(stdout io.Reader, addr chan<- string) {
	sent := false
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if m := listenLine.FindStringSubmatch(sc.Text()); m != nil && !sent {
			addr <- m[1]
			sent = true
		}
	}
}

// readLog returns the server's log, or why it cannot be read, for a failure message.
func readLog(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(unreadable: %v)", err)
	}
	return string(b)
}
