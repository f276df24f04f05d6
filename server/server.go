// Package server is draftroom's live server: the WebSocket protocol and the
// HTTP API of docs/PROTOCOL.md over a Store.
//
// Each loaded draft has one owner goroutine (draft.run) that holds its text,
// revision, recent ops, dedupe cache, subscribers and presence; connections
// and HTTP handlers reach it over a channel. A batch of submitted ops is
// applied in memory, committed in one Store.Commit, and only then acked and
// broadcast (persist, then ack, then broadcast); a failed commit is rolled
// back and nobody is acked.
//
// routes.go lists every HTTP route, WebSocket message type and per-draft
// observer; feature files reach a draft through Server.Do and
// Server.submitBuilt.
package server

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/draftroom/draftroom/dr"
	"github.com/gorilla/websocket"
)

// Server serves drafts from a Store. Build it with New; serve Handler();
// end with Shutdown.
type Server struct {
	cfg   Config
	store dr.Store
	log   *slog.Logger
	auth  authenticator

	ctx    context.Context // ends at Shutdown: drafts stop, sessions end
	cancel context.CancelFunc

	mu       sync.Mutex // guards drafts (and draft.refs), sessions, closing
	drafts   map[string]*draft
	sessions map[*Session]struct{}
	closing  bool

	stats    Stats       // operations.go, read by /metrics
	draining atomic.Bool // /healthz answers 503
	open     *openMode   // operations.go
	metrics  atomic.Pointer[http.Handler]

	sec security // limits.go: sessions by token, per-token limits, revocation

	auditLimit auditLimiter // audit.go: bounds the entries anyone can cause

	fan         Fanout           // Config.Fanout: to the other nodes, or nil
	presenceOut chan presenceOut // to presenceLoop
	conns       atomic.Uint64    // numbers the sessions (Session.conn)

	// leftMu guards leftOverflow: departures that found presenceOut full,
	// published by presenceLoop when leftWake signals (fanout.go).
	leftMu       sync.Mutex
	leftOverflow []presenceOut
	leftWake     chan struct{}

	storeErrs logLimiter // commit failures (storehealth.go)

	draftsWG   sync.WaitGroup
	sessionsWG sync.WaitGroup
	// bg owns every other goroutine the server starts (fan-out, presence
	// and liveness loops, token recheck, write pumps): started by spawn,
	// they end with ctx, and Shutdown waits for them.
	bg        sync.WaitGroup
	upgrader  websocket.Upgrader
	handler   http.Handler
	handlers  map[string]MessageHandler // message type → handler (routes.go)
	observers []namedFactory            // every draft's observers (routes.go)
}

// New returns a server over store. It does not own the store: the caller
// closes it after Shutdown. logger may be nil (cfg.Logger or slog.Default).
func New(cfg Config, store dr.Store, logger *slog.Logger) *Server {
	if logger != nil {
		cfg.Logger = logger
	}
	cfg = cfg.Defaults()
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		cfg:      cfg,
		store:    store,
		log:      cfg.Logger,
		open:     &openMode{byDefault: cfg.OpenByDefault},
		ctx:      ctx,
		cancel:   cancel,
		drafts:   make(map[string]*draft),
		sessions: make(map[*Session]struct{}),
		upgrader: websocket.Upgrader{
			// Small buffers: 10,000 idle connections must fit in a few
			// hundred MB. Reads of bigger frames simply take more calls;
			// writes bypass gorilla's buffer (see Session).
			ReadBufferSize:  2048,
			WriteBufferSize: 2048,
			WriteBufferPool: &sync.Pool{},
		},
	}
	s.open.on.Store(cfg.Open)
	s.auth = authenticator{open: s.open, tokens: cfg.Auth}
	s.upgrader.CheckOrigin = s.checkOrigin // origin.go
	// The loops that connect this node to the others (fanout.go).
	if cfg.Fanout != nil {
		s.fan = cfg.Fanout
		s.presenceOut = make(chan presenceOut, 1024)
		s.leftWake = make(chan struct{}, 1)
		s.spawn(s.fanLoop)
		s.spawn(s.presenceLoop)
		s.spawn(s.liveLoop)
	}
	s.handlers = messages()
	s.observers = observers()
	s.handler = s.guardOpen(s.routes()) // origin.go
	return s
}

// spawn runs fn in a goroutine that Shutdown waits for; fn must return
// once s.ctx ends. It reports false, without running fn, once Shutdown has
// begun (a WaitGroup must not grow while Shutdown waits on it).
func (s *Server) spawn(fn func()) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	s.bg.Go(fn)
	return true
}

// Config is the server's configuration with defaults filled in.
func (s *Server) Config() Config { return s.cfg }

// Store is the store the server was built with.
func (s *Server) Store() dr.Store { return s.store }

// Logger is the server's logger.
func (s *Server) Logger() *slog.Logger { return s.log }

// Handler serves /ws, /api/..., /healthz and the web UI at /.
func (s *Server) Handler() http.Handler { return s.handler }

// Shutdown closes every WebSocket with a close frame (going away), stops
// the drafts after their in-flight commits, and waits for them and for
// every goroutine the server started (pumps, fan-out, presence, liveness,
// token recheck), or for ctx.
// It does not close the store. Call it after http.Server.Shutdown, which
// does not see hijacked (WebSocket) connections.
func (s *Server) Shutdown(ctx context.Context) error {
	s.Drain()
	s.mu.Lock()
	s.closing = true
	sessions := make([]*Session, 0, len(s.sessions))
	for c := range s.sessions {
		sessions = append(sessions, c)
	}
	s.mu.Unlock()
	for _, c := range sessions {
		c.kill(websocket.CloseGoingAway, "server shutting down", true)
	}
	if s.fan != nil {
		// The other nodes say "left" for this node's clients at once,
		// rather than when its heartbeat expires.
		dctx, cancel := context.WithTimeout(ctx, time.Second)
		s.fan.Depart(dctx)
		cancel()
	}
	s.cancel()
	done := make(chan struct{})
	go func() {
		s.draftsWG.Wait()
		s.sessionsWG.Wait()
		s.bg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// acquire returns the owner of draft id, loading it if needed, and holds
// it: the draft stays loaded until release. The caller may send requests
// to it while it holds it.
func (s *Server) acquire(id string) (*draft, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return nil, errClosed
	}
	d := s.drafts[id]
	if d == nil {
		d = newDraft(s, id)
		s.drafts[id] = d
		s.draftsWG.Add(1)
		go d.run()
	}
	d.refs++
	return d, nil
}

// release drops a hold taken by acquire.
func (s *Server) release(d *draft) {
	s.mu.Lock()
	d.refs--
	if d.refs == 0 {
		select {
		case d.idle <- struct{}{}:
		default:
		}
	}
	s.mu.Unlock()
}

// Do runs fn in the owner goroutine of draft id (loading it if needed) and
// returns its error. fn must be quick and must not keep st. An unknown
// draft gives not_found naming it (draftNotFound).
func (s *Server) Do(ctx context.Context, id string, fn func(st *DraftState) error) error {
	d, err := s.acquire(id)
	if err != nil {
		return err
	}
	defer s.release(d)
	reply := make(chan error, 1)
	if err := d.send(ctx, &doReq{fn: fn, reply: reply}); err != nil {
		return err
	}
	return draftNotFound(id, wait(ctx, d, reply))
}

// submitBuilt commits a server-built op (a bracket proposal or resolution,
// an import): build runs in the draft's owner goroutine against the draft
// as it stands, and its op goes through the same commit, ack and broadcast
// path as typed ops, as client SystemClient with seq equal to its revision,
// principal SystemPrincipal and author by. Every subscriber, the requester
// included, receives it as an ordinary "op". It returns the committed op.
func (s *Server) submitBuilt(ctx context.Context, id string, by dr.Identity, build BuildFunc) (dr.Op, error) {
	d, err := s.acquire(id)
	if err != nil {
		return dr.Op{}, err
	}
	defer s.release(d)
	reply := make(chan builtResult, 1)
	if err := d.send(ctx, &builtReq{by: by, build: build, reply: reply}); err != nil {
		return dr.Op{}, err
	}
	select {
	case r := <-reply:
		return r.op, draftNotFound(id, r.err)
	case <-d.done:
		select {
		case r := <-reply:
			return r.op, draftNotFound(id, r.err)
		default:
			return dr.Op{}, errClosed
		}
	}
}

// wait waits for a draft's answer; a draft that stopped (shutdown) without
// answering gives errClosed.
func wait(ctx context.Context, d *draft, reply chan error) error {
	select {
	case err := <-reply:
		return err
	case <-d.done:
		select {
		case err := <-reply:
			return err
		default:
			return errClosed
		}
	case <-ctx.Done():
		return ctx.Err()
	}
}

// serveWS upgrades a request to a WebSocket session.
func (s *Server) serveWS(w http.ResponseWriter, r *http.Request) {
	ws, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader has answered
	}
	c := newSession(s, ws)
	c.proxied = proxied(r.Header)
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		ws.Close()
		return
	}
	s.sessions[c] = struct{}{}
	s.sessionsWG.Add(1)
	s.bg.Go(c.writePump) // under s.mu, closing checked: as spawn
	s.mu.Unlock()
	// The read pump gets its own goroutine so that this handler returns and
	// net/http frees its per-connection state (buffers, response writer):
	// it would otherwise stay alive for as long as the WebSocket.
	go func() {
		defer s.sessionsWG.Done()
		c.readPump()
	}()
}
