package server

import (
	"context"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"interlude/storage"
	"interlude/syncproto"
)

// Limits are the hard limits the server enforces before doing any work. Zero fields
// take the defaults from syncproto (DefaultMaxEnvelope for MaxEnvelope).
type Limits struct {
	MaxFrame        int // bytes in one WebSocket message; more closes the connection (1009)
	MaxBatch        int // records + standalone grants + revokes in one Push (a record's nested grants are part of its item)
	MaxPullPage     int // changes in one Changes page; larger requests are capped
	MaxFetch        int // record IDs in one Fetch
	MaxConnsAccount int // concurrent authenticated connections of one account
	MaxEnvelope     int // bytes in one record envelope
}

// GCPercent is the garbage collector target (debug.SetGCPercent) interlude-server runs
// with unless the GOGC environment variable is set. A server's live heap is small (about
// 13 KiB per idle connection), while every Changes page it answers allocates about
// 1.3 MB that is garbage as soon as the page is written: at Go's default of 100 the
// collector and the scavenger run every few pages and took about a third of the
// server's CPU during a catch-up. At 200 the heap may grow to three times what is live
// before a collection, which removed most of that cost; 400 saved a little more CPU for
// noticeably more memory (docs/performance.md has the figures). To bound memory, set
// GOMEMLIMIT as well: the collector runs more often as the heap nears it, whatever
// GOGC says.
const GCPercent = 200

// DefaultMaxEnvelope is the default cap on one envelope: the largest envelope a client can
// seal (a 1 MiB plaintext, padded), far below a frame. It is never more than the codec's
// syncproto.MaxBlob or the frame limit.
const DefaultMaxEnvelope = syncproto.DefaultMaxEnvelope

// Field sizes the codec does not pin down (it caps every field; see syncproto).
const (
	tokenSize      = 32 // session tokens
	minFingerprint = 10 // bytes of a fingerprint prefix in a BundleRequest (80 bits)
)

// Config configures a Server. Store and FakeSaltSecret are required; every other zero
// field takes its default.
type Config struct {
	Store          storage.Store
	Logger         *slog.Logger     // default: discard
	AllowedOrigins []string         // browser origins allowed to connect ("https://app.example"); requests without Origin are always allowed
	Now            func() time.Time // default time.Now; every session, challenge, rate-limit and storage time comes from it

	IdleTimeout        time.Duration // session idle limit (default 15m)
	SessionLifetime    time.Duration // session absolute limit (default 12h)
	ChallengeTTL       time.Duration // how long a challenge may be answered (default 60s)
	Limits             Limits
	AuthAttemptsPerMin int // failed sign-ins per account and per client address per minute (default syncproto.DefaultAuthAttemptsPerMin)
	// AuthFailuresPerHour caps failed sign-ins per account per hour on top of the
	// per-minute rate (default 100, OWASP ASVS 2.2.1).
	AuthFailuresPerHour int

	// FakeSaltSecret keys the deterministic fake KDF parameters and the fake login key
	// shown for accounts that do not exist. It must stay the same across restarts (the
	// main keeps it in DATA/server-secret) and be at least 32 bytes.
	FakeSaltSecret []byte

	HelloTimeout  time.Duration // a connection that sends no Hello within this is closed, 1008 (default 10s)
	SweepInterval time.Duration // how often grants and sessions are expired (default 1m)
	PingInterval  time.Duration // WebSocket ping period (default 30s); a peer silent for twice this is dropped
	WriteTimeout  time.Duration // most time one frame may take to write (default 10s)
	StoreTimeout  time.Duration // most time one storage call may take (default 30s)
}

// Defaults.
const (
	DefaultIdleTimeout     = 15 * time.Minute
	DefaultSessionLifetime = 12 * time.Hour
	DefaultChallengeTTL    = 60 * time.Second
)

const (
	touchInterval    = time.Minute     // session LastSeen is written at most this often
	handshakeTimeout = 2 * time.Minute // a connection must sign in within this (real time)
	lingerTimeout    = 2 * time.Second // after a close frame, how long to wait for the peer
	sendQueueLen     = 16              // frames queued per connection before it is dropped
	readBufferSize   = 1 << 10         // per connection, for the lifetime of the connection
	writeBufferSize  = 64 << 10        // pooled; held only while a frame is written
	maxLingerDrain   = 16 << 20        // bytes discarded while lingering
	fakeSaltLabel    = "interlude/v1/fake-salt"
	fakeKeyLabel     = "interlude/v1/fake-login-key"
	kdfParamsVersion = 0x01
)

// Server is the sync server. Create it with New, mount Handler, and call Shutdown.
type Server struct {
	cfg      Config
	store    storage.Store
	log      *slog.Logger
	now      func() time.Time
	limits   Limits
	origins  map[string]bool
	upgrader websocket.Upgrader
	fakeKey  ed25519.PublicKey

	acctLimit *limiter // failed sign-ins per account per minute
	addrLimit *limiter // failed sign-ins per client address per minute
	hourLimit *limiter // failed sign-ins per account per hour

	loginMu sync.Mutex // serialises UpdateLogin: check the current key, then replace it

	hub       *hub
	readAhead *readAheadState

	stopSweep    chan struct{}
	sweepDone    chan struct{}
	shutdownOnce sync.Once
}

// New checks cfg, fills in defaults and returns a Server whose background sweeper is
// running. It does not listen: mount Handler on an http.Server.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil {
		return nil, errors.New("server: Config.Store is required")
	}
	if len(cfg.FakeSaltSecret) < 32 {
		return nil, errors.New("server: Config.FakeSaltSecret must be at least 32 bytes (keep it in the data directory so that it survives restarts)")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	setDefault(&cfg.IdleTimeout, DefaultIdleTimeout)
	setDefault(&cfg.SessionLifetime, DefaultSessionLifetime)
	setDefault(&cfg.ChallengeTTL, DefaultChallengeTTL)
	setDefault(&cfg.AuthAttemptsPerMin, syncproto.DefaultAuthAttemptsPerMin)
	setDefault(&cfg.AuthFailuresPerHour, 100)
	setDefault(&cfg.HelloTimeout, 10*time.Second)
	setDefault(&cfg.SweepInterval, time.Minute)
	setDefault(&cfg.PingInterval, 30*time.Second)
	setDefault(&cfg.WriteTimeout, 10*time.Second)
	setDefault(&cfg.StoreTimeout, 30*time.Second)
	l := &cfg.Limits
	setDefault(&l.MaxFrame, syncproto.DefaultMaxFrame)
	setDefault(&l.MaxBatch, syncproto.DefaultMaxBatch)
	setDefault(&l.MaxPullPage, syncproto.DefaultMaxPullPage)
	setDefault(&l.MaxFetch, syncproto.DefaultMaxFetch)
	setDefault(&l.MaxConnsAccount, syncproto.DefaultMaxConnsAccount)
	setDefault(&l.MaxEnvelope, DefaultMaxEnvelope)
	l.MaxEnvelope = min(l.MaxEnvelope, syncproto.MaxBlob, l.MaxFrame)
	if l.MaxFrame < 1024 || l.MaxBatch < 1 || l.MaxPullPage < 1 || l.MaxFetch < 1 || l.MaxConnsAccount < 1 || l.MaxEnvelope < 1 {
		return nil, fmt.Errorf("server: limits out of range: %+v", *l)
	}

	origins := make(map[string]bool, len(cfg.AllowedOrigins))
	for _, o := range cfg.AllowedOrigins {
		n, ok := normalizeOrigin(o)
		if !ok {
			return nil, fmt.Errorf("server: allowed origin %q: write it as scheme://host[:port], e.g. https://app.example", o)
		}
		origins[n] = true
	}

	mac := hmac.New(sha256.New, cfg.FakeSaltSecret)
	mac.Write([]byte(fakeKeyLabel))
	fakeKey := ed25519.NewKeyFromSeed(mac.Sum(nil)).Public().(ed25519.PublicKey)

	s := &Server{
		cfg:       cfg,
		store:     cfg.Store,
		log:       cfg.Logger.With("component", "server"),
		now:       cfg.Now,
		limits:    cfg.Limits,
		origins:   origins,
		fakeKey:   fakeKey,
		acctLimit: newLimiter(cfg.AuthAttemptsPerMin, time.Minute),
		addrLimit: newLimiter(cfg.AuthAttemptsPerMin, time.Minute),
		hourLimit: newLimiter(cfg.AuthFailuresPerHour, time.Hour),
		hub:       newHub(),
		readAhead: newReadAheadState(),
		stopSweep: make(chan struct{}),
		sweepDone: make(chan struct{}),
	}
	s.upgrader = websocket.Upgrader{
		HandshakeTimeout: 10 * time.Second,
		ReadBufferSize:   readBufferSize,
		WriteBufferSize:  writeBufferSize,
		WriteBufferPool:  &sync.Pool{},
		Subprotocols:     []string{syncproto.Subprotocol},
		CheckOrigin:      s.checkOrigin,
		Error: func(w http.ResponseWriter, r *http.Request, status int, reason error) {
			http.Error(w, reason.Error(), status)
		},
	}
	go s.sweepLoop()
	return s, nil
}

func setDefault[T comparable](p *T, def T) {
	var zero T
	if *p == zero {
		*p = def
	}
}

// Handler serves /v1/sync (the WebSocket) and /healthz.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+syncproto.Path, s.serveSync)
	mux.HandleFunc("GET /healthz", s.serveHealth)
	return mux
}

// serveHealth answers 200 "ok" while the store answers, 503 otherwise.
func (s *Server) serveHealth(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := s.store.Ping(ctx); err != nil {
		s.log.Warn("health check failed", "event", "healthz", "err", err)
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, "storage unavailable")
		return
	}
	fmt.Fprintln(w, "ok")
}

// serveSync upgrades to a WebSocket and starts the connection's reader and writer. The
// handler returns at once, so that net/http's per-connection buffers are freed.
func (s *Server) serveSync(w http.ResponseWriter, r *http.Request) {
	if s.hub.isClosing() {
		http.Error(w, msgShuttingDown, http.StatusServiceUnavailable)
		return
	}
	if !s.checkOrigin(r) {
		s.log.Info("origin refused", "event", "origin_refused")
		http.Error(w, "origin not allowed: this server accepts browser connections only from its configured origins", http.StatusForbidden)
		return
	}
	if !slices.Contains(websocket.Subprotocols(r), syncproto.Subprotocol) {
		http.Error(w, fmt.Sprintf("offer the WebSocket subprotocol %q (Sec-WebSocket-Protocol) to speak to this endpoint", syncproto.Subprotocol), http.StatusBadRequest)
		return
	}
	ws, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		s.log.Debug("upgrade failed", "event", "upgrade_failed", "err", err)
		return // the upgrader has answered
	}
	s.admit(ws, r.RemoteAddr)
}

// admit starts the reader and writer of an upgraded WebSocket, or, if Shutdown began
// after serveSync looked, says so as Shutdown does to every connection: Error
// shutting_down (ID 0), then close 1001.
func (s *Server) admit(ws *websocket.Conn, remoteAddr string) {
	c := newConn(s, ws, addrKey(remoteAddr))
	if !s.hub.add(c) {
		deadline := time.Now().Add(time.Second)
		if data, err := syncproto.Encode(0, &syncproto.Error{Code: syncproto.CodeShuttingDown, Message: msgShuttingDown}); err == nil {
			ws.SetWriteDeadline(deadline)
			ws.WriteMessage(websocket.BinaryMessage, data)
		}
		ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, syncproto.CodeShuttingDown.String()), deadline)
		ws.Close()
		return
	}
	go c.writeLoop()
	go c.readLoop()
}

// checkOrigin allows requests without an Origin header (native clients) and requests
// whose Origin is exactly one of the configured origins, after normalisation (scheme and
// host lowercased, default port dropped). Anything else is refused, including "null",
// an empty value and several Origin headers.
func (s *Server) checkOrigin(r *http.Request) bool {
	vals, present := r.Header["Origin"]
	if !present {
		return true
	}
	if len(vals) != 1 {
		return false
	}
	n, ok := normalizeOrigin(vals[0])
	return ok && s.origins[n]
}

// normalizeOrigin returns scheme://host[:port] for a well-formed http or https origin
// (lowercase, default port dropped) and false for anything else.
func normalizeOrigin(o string) (string, bool) {
	if o == "" || strings.ContainsAny(o, " \t\r\n\\") {
		return "", false
	}
	u, err := url.Parse(o)
	if err != nil || u.Opaque != "" || u.User != nil || u.Path != "" || u.RawQuery != "" ||
		u.ForceQuery || u.Fragment != "" || strings.Contains(o, "#") || u.Host == "" {
		return "", false
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return "", false
	}
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if host == "" || strings.HasSuffix(host, ".") || strings.Contains(host, "%") {
		return "", false
	}
	if (scheme == "https" && port == "443") || (scheme == "http" && port == "80") {
		port = ""
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != "" {
		return scheme + "://" + host + ":" + port, true
	}
	return scheme + "://" + host, true
}

// Shutdown stops accepting WebSockets, sends every connection an Error
// (shutting_down) and a close frame (1001), and waits for their goroutines. If ctx ends
// first, the remaining connections are cut and ctx's error returned. The caller closes
// the store afterwards.
func (s *Server) Shutdown(ctx context.Context) error {
	s.shutdownOnce.Do(func() { close(s.stopSweep) })
	select {
	case <-s.sweepDone:
	case <-ctx.Done():
	}
	conns := s.hub.close()
	s.log.Info("shutting down", "event", "shutdown", "connections", len(conns))
	bye := fatal(syncproto.CodeShuttingDown, websocket.CloseGoingAway, msgShuttingDown)
	for _, c := range conns {
		c.closeWith(0, bye)
	}
	done := make(chan struct{})
	go func() { s.hub.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
	}
	for _, c := range conns {
		c.kill()
	}
	select {
	case <-done:
	case <-time.After(time.Second):
	}
	return fmt.Errorf("server: shutdown: %w", ctx.Err())
}

// sweepLoop expires grants and sessions every SweepInterval until Shutdown.
func (s *Server) sweepLoop() {
	defer close(s.sweepDone)
	t := time.NewTicker(s.cfg.SweepInterval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			s.sweep()
		case <-s.stopSweep:
			return
		}
	}
}

// sweep does one round of background work: it expires grants (and notifies the
// recipients' connections), deletes expired sessions, closes connections whose session
// has expired or that never signed in, and prunes the rate limiters.
func (s *Server) sweep() {
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.StoreTimeout)
	defer cancel()
	now := s.now()
	fed, err := s.store.ExpireGrants(ctx, now)
	if err != nil {
		s.log.Warn("expiring grants failed", "event", "sweep", "err", err)
	}
	for acct, cur := range fed {
		s.hub.notify(acct, cur)
	}
	n, err := s.store.DeleteExpiredSessions(ctx, now, s.cfg.IdleTimeout)
	if err != nil {
		s.log.Warn("deleting expired sessions failed", "event", "sweep", "err", err)
	}
	closed := 0
	for _, c := range s.hub.snapshot() {
		a := c.auth.Load()
		if a == nil {
			if time.Since(time.Unix(0, c.opened.Load())) > handshakeTimeout {
				c.closeWith(0, fatal(syncproto.CodeUnauthenticated, websocket.ClosePolicyViolation, "sign in within %s of connecting", handshakeTimeout))
				closed++
			}
			continue
		}
		if err := c.checkSession(ctx, a, now, false); err != nil {
			s.endAll(a, err)
			c.closeWith(0, err)
			closed++
		}
	}
	s.acctLimit.prune(now)
	s.addrLimit.prune(now)
	s.hourLimit.prune(now)
	s.log.Debug("sweep", "event", "sweep", "grants_expired_accounts", len(fed), "sessions_deleted", n,
		"connections_closed", closed, "duration", time.Since(start))
}

// endAll closes, when err says a session expired or a device was revoked, every other
// connection of that session or device too, each with its own Error (ID 0).
func (s *Server) endAll(a *authState, err error) {
	if a == nil {
		return
	}
	var conns []*conn
	switch {
	case errors.Is(err, errSessionExpired):
		conns = s.hub.sessionConns(a.account, a.tokenHash)
	case errors.Is(err, errDeviceRevoked):
		conns = s.hub.deviceConns(a.account, a.device)
	}
	for _, x := range conns {
		x.closeWith(0, err)
	}
}

// storeCtx bounds one storage call. It is not tied to Shutdown: a push in flight
// finishes and is acknowledged if it can be.
func (s *Server) storeCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), s.cfg.StoreTimeout)
}
