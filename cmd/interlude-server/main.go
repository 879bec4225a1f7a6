// Command interlude-server runs Interlude's zero-knowledge sync server: one WebSocket
// endpoint (/v1/sync) and a health check (/healthz) in front of an embedded SQLite
// database in the data directory.
//
// Usage:
//
//	interlude-server [flags]
//
// Every flag has an environment twin (INTERLUDE_LISTEN, INTERLUDE_DATA, …); a flag
// given on the command line wins. The garbage collector runs at GOGC=server.GCPercent
// unless GOGC is set; GOMEMLIMIT bounds memory. SIGINT or SIGTERM closes every WebSocket with a close
// frame, then the database.
package main

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"interlude/server"
	"interlude/storage/sqlite"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintf(os.Stderr, "interlude-server: %v\n", err)
		os.Exit(1)
	}
}

// config is the effective configuration after flags and environment.
type config struct {
	listen          string
	data            string
	tlsCert         string
	tlsKey          string
	logLevel        string
	logFormat       string
	origins         listFlag
	idleTimeout     time.Duration
	sessionLifetime time.Duration
	shutdownTimeout time.Duration
}

// listFlag collects a repeatable flag whose values may also be comma lists.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}

// envName is a flag's environment twin: --tls-cert is INTERLUDE_TLS_CERT.
func envName(flagName string) string {
	return "INTERLUDE_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

func parseFlags(args []string, getenv func(string) string, stderr io.Writer) (*config, error) {
	cfg := &config{}
	fset := flag.NewFlagSet("interlude-server", flag.ContinueOnError)
	fset.SetOutput(stderr)
	fset.StringVar(&cfg.listen, "listen", "127.0.0.1:7700", "address to listen on (host:port; port 0 picks a free one)")
	fset.StringVar(&cfg.data, "data", "./interlude-data", "data directory (created 0700): interlude.db and server-secret")
	fset.StringVar(&cfg.tlsCert, "tls-cert", "", "TLS certificate file (PEM): serve wss:// directly; needs --tls-key")
	fset.StringVar(&cfg.tlsKey, "tls-key", "", "TLS private key file (PEM)")
	fset.StringVar(&cfg.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	fset.StringVar(&cfg.logFormat, "log-format", "text", "log format: text or json")
	fset.Var(&cfg.origins, "allowed-origin", "browser origin allowed to connect, e.g. https://app.example (repeatable, or a comma list); native clients send none")
	fset.DurationVar(&cfg.idleTimeout, "idle-timeout", server.DefaultIdleTimeout, "sign a session out after this long without activity")
	fset.DurationVar(&cfg.sessionLifetime, "session-lifetime", server.DefaultSessionLifetime, "sign a session out this long after sign-in, active or not")
	fset.DurationVar(&cfg.shutdownTimeout, "shutdown-timeout", 10*time.Second, "how long to wait for connections to close on SIGINT/SIGTERM")
	fset.Usage = func() {
		fmt.Fprintf(stderr, "usage: interlude-server [flags]\n\nRuns the Interlude sync server. Every flag has an environment twin,\ne.g. --listen is INTERLUDE_LISTEN; a flag on the command line wins.\n\nflags:\n")
		fset.PrintDefaults()
		fmt.Fprintf(stderr, "\nmemory: the garbage collector runs at GOGC=%d unless GOGC is set; set GOMEMLIMIT\n"+
			"(e.g. GOMEMLIMIT=1GiB) to bound the server's memory.\n", server.GCPercent)
	}
	if err := fset.Parse(args); err != nil {
		return nil, err
	}
	if fset.NArg() > 0 {
		fset.Usage()
		return nil, fmt.Errorf("unexpected argument %q: all settings are flags", fset.Arg(0))
	}
	set := map[string]bool{}
	fset.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var envErr error
	fset.VisitAll(func(f *flag.Flag) {
		if set[f.Name] {
			return
		}
		if v := getenv(envName(f.Name)); v != "" {
			if err := f.Value.Set(v); err != nil && envErr == nil {
				envErr = fmt.Errorf("%s=%q: %v", envName(f.Name), v, err)
			}
		}
	})
	if envErr != nil {
		return nil, envErr
	}
	if (cfg.tlsCert == "") != (cfg.tlsKey == "") {
		return nil, errors.New("--tls-cert and --tls-key go together: give both or neither")
	}
	if cfg.idleTimeout <= 0 || cfg.sessionLifetime <= 0 || cfg.shutdownTimeout <= 0 {
		return nil, errors.New("--idle-timeout, --session-lifetime and --shutdown-timeout must be positive")
	}
	return cfg, nil
}

func newLogger(level, format string, w io.Writer) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", format)
}

// loadSecret reads DATA/server-secret, or creates it (32 random bytes, 0600) on the first
// run. It keys the fake login parameters shown for unknown accounts, which must not
// change across restarts.
func loadSecret(dir string) ([]byte, bool, error) {
	path := filepath.Join(dir, "server-secret")
	b, err := os.ReadFile(path)
	if err == nil {
		fi, err := os.Stat(path)
		if err != nil {
			return nil, false, err
		}
		if fi.Mode().Perm()&0o077 != 0 {
			return nil, false, fmt.Errorf("%s is readable by others (mode %v): chmod 600 it", path, fi.Mode().Perm())
		}
		if len(b) < 32 {
			return nil, false, fmt.Errorf("%s holds %d bytes, want 32: restore it from a backup, or delete it to make a new one (unknown accounts will then show other fake parameters)", path, len(b))
		}
		return b, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, false, err
	}
	b = make([]byte, 32)
	rand.Read(b)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, false, fmt.Errorf("create %s: %w", path, err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return nil, false, fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, false, fmt.Errorf("write %s: %w", path, err)
	}
	return b, true, f.Close()
}

// run is the whole server: parse flags, open storage, serve until ctx ends, shut down.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := parseFlags(args, getenv, stderr)
	if err != nil {
		return err
	}
	log, err := newLogger(cfg.logLevel, cfg.logFormat, stderr)
	if err != nil {
		return err
	}
	gc := getenv("GOGC") // if set, the runtime applied it at start; we only report it
	if gc == "" {
		debug.SetGCPercent(server.GCPercent)
		gc = strconv.Itoa(server.GCPercent)
	}

	if err := os.MkdirAll(cfg.data, 0o700); err != nil {
		return fmt.Errorf("create data directory: %w", err)
	}
	unlock, err := lockDataDir(cfg.data)
	if err != nil {
		return err
	}
	defer unlock()
	if fi, err := os.Stat(cfg.data); err == nil && fi.Mode().Perm()&0o077 != 0 {
		log.Warn("data directory is open to other users: chmod 700 it", "data", cfg.data, "mode", fi.Mode().Perm().String())
	}
	secret, created, err := loadSecret(cfg.data)
	if err != nil {
		return err
	}
	if created {
		log.Info("created server secret", "file", filepath.Join(cfg.data, "server-secret"))
	}

	dbPath := filepath.Join(cfg.data, "interlude.db")
	store, err := sqlite.Open(ctx, dbPath, sqlite.Options{Logger: log}) // the store adds component=storage
	if err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	storeOpen := true
	defer func() {
		if storeOpen {
			store.Close()
		}
	}()

	srv, err := server.New(server.Config{
		Store:           store,
		Logger:          log,
		AllowedOrigins:  cfg.origins,
		IdleTimeout:     cfg.idleTimeout,
		SessionLifetime: cfg.sessionLifetime,
		FakeSaltSecret:  secret,
	})
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", cfg.listen)
	if err != nil {
		srv.Shutdown(context.Background())
		return fmt.Errorf("listen: %w", err)
	}
	scheme := "ws"
	if cfg.tlsCert != "" {
		scheme = "wss"
	}
	log.Info("effective config", "component", "main",
		"listen", cfg.listen, "data", cfg.data, "database", dbPath, "tls", cfg.tlsCert != "",
		"log_level", cfg.logLevel, "log_format", cfg.logFormat, "allowed_origins", strings.Join(cfg.origins, ","),
		"idle_timeout", cfg.idleTimeout, "session_lifetime", cfg.sessionLifetime, "shutdown_timeout", cfg.shutdownTimeout,
		"gogc", gc)

	hs := &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(log.With("component", "http").Handler(), slog.LevelWarn),
		TLSConfig:         &tls.Config{MinVersion: tls.VersionTLS13}, // docs/protocol.md: TLS 1.3 only
	}
	addr := ln.Addr().String()
	log.Info("listening", "component", "main", "addr", addr, "url", scheme+"://"+addr+"/v1/sync")
	fmt.Fprintf(stdout, "listening addr=%s url=%s://%s/v1/sync\n", addr, scheme, addr)

	serveErr := make(chan error, 1)
	go func() {
		if cfg.tlsCert != "" {
			serveErr <- hs.ServeTLS(ln, cfg.tlsCert, cfg.tlsKey)
		} else {
			serveErr <- hs.Serve(ln)
		}
	}()

	var runErr error
	select {
	case <-ctx.Done():
		log.Info("stopping", "component", "main", "reason", context.Cause(ctx))
	case err := <-serveErr:
		runErr = fmt.Errorf("serve: %w", err)
	}

	sctx, cancel := context.WithTimeout(context.Background(), cfg.shutdownTimeout)
	defer cancel()
	start := time.Now()
	if err := hs.Shutdown(sctx); err != nil {
		log.Warn("http shutdown", "component", "main", "err", err)
	}
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn("closing connections", "component", "main", "err", err)
	}
	storeOpen = false
	if err := store.Close(); err != nil && runErr == nil {
		runErr = fmt.Errorf("close database: %w", err)
	}
	log.Info("stopped", "component", "main", "duration", time.Since(start))
	return runErr
}
