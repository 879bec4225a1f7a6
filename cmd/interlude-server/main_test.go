package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"interlude/server"
	"interlude/server/servertest"
	"interlude/syncproto"
)

// syncBuffer is a bytes.Buffer safe for the logger and the test to share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// started is a server run in-process.
type started struct {
	addr   string
	cancel context.CancelFunc
	done   chan error
	stderr *syncBuffer
}

func start(t *testing.T, args []string, env map[string]string) *started {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	s := &started{cancel: cancel, done: make(chan error, 1), stderr: &syncBuffer{}}
	getenv := func(k string) string { return env[k] }
	go func() {
		err := run(ctx, args, getenv, pw, s.stderr)
		pw.Close()
		s.done <- err
	}()
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	select {
	case line, ok := <-lines:
		if !ok {
			t.Fatalf("server exited before listening: %v\n%s", <-s.done, s.stderr)
		}
		for _, f := range strings.Fields(line) {
			if a, ok := strings.CutPrefix(f, "addr="); ok {
				s.addr = a
			}
		}
		if s.addr == "" {
			t.Fatalf("no addr= in %q", line)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("server did not start\n%s", s.stderr)
	}
	go func() {
		for range lines {
		}
	}()
	t.Cleanup(func() { s.stop(t) })
	return s
}

func (s *started) stop(t *testing.T) error {
	t.Helper()
	s.cancel()
	select {
	case err, ok := <-s.done:
		if ok {
			close(s.done)
		}
		return err
	case <-time.After(20 * time.Second):
		t.Fatal("server did not stop")
		return nil
	}
}

func TestRunServesAndRestarts(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	gcBefore := debug.SetGCPercent(100) // the test process's own, restored below
	debug.SetGCPercent(gcBefore)
	s := start(t, []string{"--listen", "127.0.0.1:0", "--data", dir, "--log-format", "json", "--log-level", "debug"}, nil)

	resp, err := http.Get("http://" + s.addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || strings.TrimSpace(string(body)) != "ok" {
		t.Fatalf("healthz: %d %q", resp.StatusCode, body)
	}

	ctx := context.Background()
	url := "ws://" + s.addr + syncproto.Path
	c, _, err := servertest.Dial(ctx, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Hello(ctx); err != nil {
		t.Fatal(err)
	}
	id := servertest.NewIdentity()
	sess, err := c.SignUp(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	rec := servertest.NewRecord(time.Now())
	if _, err := servertest.Expect[syncproto.PushResult](c.Call(ctx, &syncproto.Push{Records: []syncproto.RecordPush{rec}})); err != nil {
		t.Fatal(err)
	}

	// The data directory and the secret are private.
	for path, want := range map[string]os.FileMode{dir: 0o700, filepath.Join(dir, "server-secret"): 0o600} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v", path, fi.Mode().Perm(), want)
		}
	}
	secret, _ := os.ReadFile(filepath.Join(dir, "server-secret"))

	// Stopping closes the WebSocket with a close frame.
	if err := s.stop(t); err != nil {
		t.Fatalf("run: %v", err)
	}
	if code := c.CloseCode(5 * time.Second); code != websocket.CloseGoingAway {
		t.Fatalf("close code %d, want 1001", code)
	}
	logs := s.stderr.String()
	// With GOGC unset the server runs the collector at server.GCPercent.
	if got := debug.SetGCPercent(gcBefore); got != server.GCPercent {
		t.Errorf("GC percent %d with GOGC unset, want %d", got, server.GCPercent)
	}
	for _, want := range []string{`"msg":"effective config"`, `"gogc":"` + strconv.Itoa(server.GCPercent) + `"`, `"msg":"listening"`, `"msg":"stopped"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %s", want)
		}
	}
	// No payload or token reaches the log.
	for _, secretBytes := range [][]byte{sess.Token, rec.Envelope[:16], id.Keybag[:16], secret} {
		for _, enc := range encodings(secretBytes) {
			if strings.Contains(logs, enc) {
				t.Errorf("log contains payload bytes (%q…)", enc[:8])
			}
		}
	}

	// Restart on the same directory: the session, the data and the secret survive.
	s2 := start(t, []string{"--listen", "127.0.0.1:0"}, map[string]string{"INTERLUDE_DATA": dir})
	c2, _, err := servertest.Dial(ctx, "ws://"+s2.addr+syncproto.Path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if _, err := c2.Hello(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c2.Resume(ctx, sess.Token); err != nil {
		t.Fatalf("resume after restart: %v", err)
	}
	ch, err := servertest.Expect[syncproto.Changes](c2.Call(ctx, &syncproto.Pull{}))
	if err != nil || len(ch.Items) != 1 || !bytes.Equal(ch.Items[0].Envelope, rec.Envelope) {
		t.Fatalf("after restart: %v %+v", err, ch)
	}
	if again, _ := os.ReadFile(filepath.Join(dir, "server-secret")); !bytes.Equal(again, secret) {
		t.Fatal("the server secret changed across a restart")
	}
}

func encodings(b []byte) []string {
	return []string{string(b), hex.EncodeToString(b), base64.StdEncoding.EncodeToString(b), base64.RawURLEncoding.EncodeToString(b)}
}

func TestFlagsAndEnvironment(t *testing.T) {
	env := map[string]string{
		"INTERLUDE_LISTEN":           "127.0.0.1:9999",
		"INTERLUDE_ALLOWED_ORIGIN":   "https://a.example, https://b.example",
		"INTERLUDE_IDLE_TIMEOUT":     "5m",
		"INTERLUDE_SESSION_LIFETIME": "1h",
	}
	cfg, err := parseFlags([]string{"--listen", "127.0.0.1:1234", "--allowed-origin", "https://c.example"}, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.listen != "127.0.0.1:1234" {
		t.Errorf("a flag must win over its environment twin: listen %q", cfg.listen)
	}
	if strings.Join(cfg.origins, " ") != "https://c.example" {
		t.Errorf("origins %q", cfg.origins)
	}
	if cfg.idleTimeout != 5*time.Minute || cfg.sessionLifetime != time.Hour || cfg.data != "./interlude-data" {
		t.Errorf("config %+v", cfg)
	}
	cfg, err = parseFlags(nil, func(k string) string { return env[k] }, io.Discard)
	if err != nil || strings.Join(cfg.origins, " ") != "https://a.example https://b.example" || cfg.listen != "127.0.0.1:9999" {
		t.Errorf("from the environment: %+v %v", cfg, err)
	}

	for _, bad := range [][]string{
		{"--tls-cert", "x.pem"},
		{"--idle-timeout", "-1s"},
		{"--log-level", "loud"},
		{"--log-format", "xml"},
		{"extra"},
		{"--allowed-origin", "app.example"},
	} {
		dir := t.TempDir()
		err := run(context.Background(), append(bad, "--data", dir, "--listen", "127.0.0.1:0"), func(string) string { return "" }, io.Discard, io.Discard)
		if err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestSecretPermissionsChecked(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "server-secret"), bytes.Repeat([]byte{7}, 32), 0o644); err != nil {
		t.Fatal(err)
	}
	err := run(context.Background(), []string{"--data", dir, "--listen", "127.0.0.1:0"}, func(string) string { return "" }, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("a world-readable secret: %v", err)
	}
}

func TestRunServesTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, pool := selfSigned(t, dir)
	s := start(t, []string{"--listen", "127.0.0.1:0", "--data", filepath.Join(dir, "data"), "--tls-cert", certFile, "--tls-key", keyFile}, nil)
	ctx := context.Background()
	c, _, err := servertest.Dial(ctx, "wss://"+s.addr+syncproto.Path, &servertest.DialOptions{TLS: &tls.Config{RootCAs: pool}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Hello(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SignUp(ctx, servertest.NewIdentity()); err != nil {
		t.Fatal(err)
	}
	// TLS 1.3 only (docs/protocol.md): a client that stops at 1.2 is refused.
	old, _, err := servertest.Dial(ctx, "wss://"+s.addr+syncproto.Path, &servertest.DialOptions{TLS: &tls.Config{RootCAs: pool, MaxVersion: tls.VersionTLS12}})
	if err == nil {
		old.Close()
		t.Fatal("a TLS 1.2 client was accepted")
	}
}

// selfSigned writes a certificate for 127.0.0.1 and its key, and returns a pool that
// trusts it.
func selfSigned(t *testing.T, dir string) (string, string, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "interlude test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// A second server on the same data directory refuses to start, with a message saying
// what to do, and leaves the first serving; once the first stops, the directory is free.
func TestSecondServerOnSameDataRefused(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	args := []string{"--listen", "127.0.0.1:0", "--data", dir}
	first := start(t, args, nil)
	// Bounded: a second server that wrongly starts would otherwise serve until killed.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var stderr bytes.Buffer
	err := run(ctx, args, func(string) string { return "" }, io.Discard, &stderr)
	if err == nil || !strings.Contains(err.Error(), "another interlude-server is using the data directory") {
		t.Fatalf("second server on the same data: %v", err)
	}
	if resp, err := http.Get("http://" + first.addr + "/healthz"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("the first server stopped serving: %v", err)
	} else {
		resp.Body.Close()
	}
	if err := first.stop(t); err != nil {
		t.Fatal(err)
	}
	start(t, args, nil) // the lock went with the first server
}
