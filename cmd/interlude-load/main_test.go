package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"interlude/server"
	"interlude/storage/sqlite"
)

func startServer(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "interlude.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(server.Config{Store: st, FakeSaltSecret: bytes.Repeat([]byte{1}, 32)})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		ts.Close()
		st.Close()
	})
	return "ws" + strings.TrimPrefix(ts.URL, "http") + "/v1/sync"
}

func TestLoadRunJSON(t *testing.T) {
	url := startServer(t)
	var out bytes.Buffer
	args := []string{"--url", url, "--devices", "2", "--batch", "50", "--records", "400", "--idle", "20",
		"--samples", "20", "--duration", "60s", "--server-pid", "0", "--json"}
	if err := run(context.Background(), args, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	var rep Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if len(rep.Errors) != 0 {
		t.Fatalf("errors: %v", rep.Errors)
	}
	if rep.PushRecords != 400 || rep.PushPerSec <= 0 || rep.NotifySamples != 20 || rep.PullRecords < 200 || rep.IdleConnections != 20 {
		t.Fatalf("report %+v", rep)
	}
	if rep.EnvelopeBytes != 1024+177 {
		t.Fatalf("envelopes of %d bytes", rep.EnvelopeBytes)
	}
}

func TestLoadRunTableWithServerPID(t *testing.T) {
	url := startServer(t) // in this process: the tool reads its own /proc entry
	var out bytes.Buffer
	args := []string{"--url", url, "--devices", "1", "--records", "100", "--samples", "5", "--idle", "8",
		"--server-pid", strconv.Itoa(os.Getpid())}
	if err := run(context.Background(), args, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"push throughput", "notify after ack", "pull catch-up", "server CPU per pushed record"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
}

func TestLoopbackOnly(t *testing.T) {
	for _, u := range []string{"ws://127.0.0.1:7700/v1/sync", "ws://localhost:7700/v1/sync", "wss://[::1]:7700/v1/sync", "ws://127.3.2.1/v1/sync"} {
		if err := checkTarget(u, false); err != nil {
			t.Errorf("%s: %v", u, err)
		}
	}
	for _, u := range []string{"ws://10.0.0.1:7700/v1/sync", "wss://sync.example.com/v1/sync", "ws://192.168.1.2/v1/sync", "http://127.0.0.1/v1/sync", "ws://localhost.example.com/"} {
		if err := checkTarget(u, false); err == nil {
			t.Errorf("%s: allowed without --allow-remote", u)
		}
	}
	if err := checkTarget("wss://sync.example.com/v1/sync", true); err != nil {
		t.Errorf("--allow-remote: %v", err)
	}
	err := run(context.Background(), []string{"--url", "ws://10.1.2.3:7700/v1/sync"}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "--allow-remote") {
		t.Fatalf("run against a remote URL: %v", err)
	}
}
