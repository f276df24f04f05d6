package server

// Per-token state shared by the connections of one token: the connection
// count, the token buckets for messages and ops, and the list of sessions to
// close when the token is revoked or expires. Open-mode identities have no
// shared state (their names are self-declared, so a per-name limit would
// only make one person's trial slow another's); their connections are
// limited per connection only.

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/draftroom/draftroom/auth"
	"github.com/draftroom/draftroom/dr"
	"github.com/draftroom/draftroom/storage"
)

// tokenLimits is the shared state of one token's connections. Its buckets
// are guarded by mu; sessions by security.mu.
type tokenLimits struct {
	id       string // token id
	mu       sync.Mutex
	ops      bucket
	msgs     bucket
	sessions map[*Session]struct{}
}

// allowOps takes n ops from the token's op bucket. A nil receiver (open
// mode) allows everything.
func (l *tokenLimits) allowOps(now time.Time, n float64) bool {
	if l == nil {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.ops.allowN(now, n)
}

// opLagUnit: an op made lagUnit revisions behind the draft's head costs
// one more op of the rate limit. The server transforms a submitted op
// against every op since its base revision, so an op at an old revision
// costs CPU in proportion to how far behind it is; counted as one op, a
// client sending ops at revision 0 of a long draft could keep the draft's
// owner busy at a rate far below the limit (BenchmarkFlood). A client that
// reconnects after 5,000 ops pays 79, well within the burst.
const opLagUnit = 64

// opCost is what an op on d at base revision rev costs in the op buckets.
func opCost(d *draft, rev int) float64 {
	lag := d.head.Load() - int64(rev)
	return 1 + float64(max(lag, 0))/opLagUnit
}

// allowOp charges an op on d at base rev to the connection's and the
// token's op buckets (opCost); false means rate_limited and nothing is
// taken from the token's bucket.
func (c *Session) allowOp(d *draft, rev int) bool {
	now, cost := time.Now(), opCost(d, rev)
	return c.opsRate.allowN(now, cost) && c.limits.allowOps(now, cost)
}

// allowN is allow for a cost of n tokens (n >= 1). A cost above the burst
// is let through when the bucket is full, so that a legitimate but costly
// op (a long-offline client's resend) is slowed, never refused forever.
func (b *bucket) allowN(now time.Time, n float64) bool {
	b.tokens = min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	b.last = now
	if b.tokens >= b.burst && n > b.burst {
		b.tokens = 0
		return true
	}
	if b.tokens < n {
		return false
	}
	b.tokens -= n
	return true
}

// allowMsg takes one message from the token's message bucket. A nil
// receiver (open mode) allows everything.
func (l *tokenLimits) allowMsg(now time.Time) bool {
	if l == nil {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.msgs.allow(now)
}

// security is the server's registry of token sessions. The zero value is
// ready to use.
type security struct {
	mu      sync.Mutex
	http    map[string]*bucket      // by token id: HTTP requests (TokenMsgsPerSecond/Burst)
	tokens  map[string]*tokenLimits // by token id; entries with no session are dropped
	revoked map[string]bool         // token ids revoked through this server
	sweep   sync.Once

	hostWarn     logEvery // origin.go: refused Host headers in open mode
	hugeFrameLog logEvery // conn.go: connections closed for a frame beyond the hard limit
}

// admit registers a session that has just authenticated as id, before it
// is welcomed: it enforces MaxConnsPerToken, attaches the token's shared
// buckets to the session and records the login in the audit log. Open-mode
// identities are admitted without any of this. It runs on the session's
// read goroutine.
func (s *Server) admit(c *Session, id dr.Identity, client string) error {
	if id.TokenID == "" {
		return nil
	}
	sec := &s.sec
	sec.mu.Lock()
	if sec.revoked[id.TokenID] {
		sec.mu.Unlock()
		return dr.Errorf(dr.CodeUnauthorized, "this token was revoked")
	}
	if sec.tokens == nil {
		sec.tokens = make(map[string]*tokenLimits)
	}
	l := sec.tokens[id.TokenID]
	if l == nil {
		now := time.Now()
		l = &tokenLimits{
			id:       id.TokenID,
			ops:      newBucket(s.cfg.TokenOpsPerSecond, s.cfg.TokenOpsBurst, now),
			msgs:     newBucket(s.cfg.TokenMsgsPerSecond, s.cfg.TokenMsgsBurst, now),
			sessions: make(map[*Session]struct{}),
		}
		sec.tokens[id.TokenID] = l
	}
	if len(l.sessions) >= s.cfg.MaxConnsPerToken {
		sec.mu.Unlock()
		return dr.Errorf(dr.CodeRateLimited, "this token already has %d open connections, the most allowed; close one first", s.cfg.MaxConnsPerToken)
	}
	l.sessions[c] = struct{}{}
	c.limits = l
	sec.mu.Unlock()
	sec.sweep.Do(func() { s.spawn(s.recheckTokens) })

	// Bounded (audit.go): a client reconnecting in a loop must not fill
	// the audit log.
	s.auditBounded(id, id.Principal, ActionLogin, "", "token="+id.TokenID+" client="+client+" from="+c.remote())
	return nil
}

// forget unregisters a session when it ends (its read pump's cleanup).
func (s *Server) forget(c *Session) {
	l := c.limits
	if l == nil {
		return
	}
	sec := &s.sec
	sec.mu.Lock()
	delete(l.sessions, c)
	if len(l.sessions) == 0 && sec.tokens[l.id] == l {
		delete(sec.tokens, l.id)
	}
	sec.mu.Unlock()
}

// closeToken ends every open connection of a token on this server, with
// an unauthorized error and then a close frame (1008, policy violation),
// and refuses new ones. It returns how many connections it closed.
func (s *Server) closeToken(tokenID, why string) int {
	sec := &s.sec
	sec.mu.Lock()
	if sec.revoked == nil {
		sec.revoked = make(map[string]bool)
	}
	sec.revoked[tokenID] = true
	var sessions []*Session
	if l := sec.tokens[tokenID]; l != nil {
		for c := range l.sessions {
			sessions = append(sessions, c)
		}
	}
	sec.mu.Unlock()
	frame := s.errorFrame(dr.Errorf(dr.CodeUnauthorized, "%s", why), replyTo{}, "close token", "token", tokenID)
	for _, c := range sessions {
		c.queue(frame)
		c.kill(websocket.ClosePolicyViolation, why, true)
	}
	return len(sessions)
}

// recheckTokens re-reads, every TokenRecheck, the tokens of the open
// connections, and closes those whose token was revoked (possibly through
// another node sharing the store) or has expired. It runs until shutdown.
func (s *Server) recheckTokens() {
	tick := time.NewTicker(s.cfg.TokenRecheck)
	defer tick.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-tick.C:
		}
		s.sec.mu.Lock()
		ids := make([]string, 0, len(s.sec.tokens))
		for id := range s.sec.tokens {
			ids = append(ids, id)
		}
		s.sec.mu.Unlock()
		for _, id := range ids {
			ctx, cancel := context.WithTimeout(s.ctx, s.cfg.CommitTimeout)
			tok, err := s.store.Token(ctx, id)
			cancel()
			switch {
			case errors.Is(err, storage.ErrNotFound):
				s.closeToken(id, "your token no longer exists")
			case err != nil:
				// The store is unreachable: keep the connections (they
				// cannot commit anyway) and try again next time.
				s.log.Warn("recheck token", "token", id, "err", err)
			default:
				switch err := auth.Valid(tok, s.cfg.Now()); {
				case errors.Is(err, auth.ErrRevoked):
					s.closeToken(id, "your token was revoked")
				case errors.Is(err, auth.ErrExpired):
					s.closeToken(id, "your token expired")
				}
			}
		}
	}
}

// floodState counts a connection's rate_limited refusals in the current
// one-second window (read goroutine only).
type floodState struct {
	since time.Time
	n     int
}

// refused records a rate_limited refusal. Each refusal is an answer the
// server encodes and writes, so a client that ignores them and keeps
// sending would cost the server more than it is allowed; past
// MaxRefusedPerSecond in one second the connection is closed.
func (c *Session) refused(now time.Time) {
	if now.Sub(c.flood.since) > time.Second {
		c.flood = floodState{since: now}
	}
	c.flood.n++
	if c.flood.n == c.s.cfg.MaxRefusedPerSecond {
		c.s.log.Info("closing a flooding connection", "client", c.client, "delegation", c.ident.Author.Delegation, "token", c.ident.TokenID)
		c.kill(websocket.ClosePolicyViolation, "too many messages refused in one second: slow down before reconnecting", true)
	}
}

// maxHTTPBuckets bounds the HTTP bucket map; past it, buckets that have
// refilled completely (idle tokens) are dropped, which loses nothing.
const maxHTTPBuckets = 4096

// allowRequest charges an HTTP request to its token's bucket, separate
// from the token's WebSocket messages, with the same rate and burst
// (TokenMsgsPerSecond, TokenMsgsBurst). Open-mode identities are not
// limited.
func (s *Server) allowRequest(id dr.Identity) bool {
	if id.TokenID == "" {
		return true
	}
	now := time.Now()
	sec := &s.sec
	sec.mu.Lock()
	defer sec.mu.Unlock()
	if sec.http == nil {
		sec.http = make(map[string]*bucket)
	}
	b := sec.http[id.TokenID]
	if b == nil {
		if len(sec.http) >= maxHTTPBuckets {
			for k, old := range sec.http {
				if old.tokens+now.Sub(old.last).Seconds()*old.rate >= old.burst {
					delete(sec.http, k)
				}
			}
		}
		nb := newBucket(s.cfg.TokenMsgsPerSecond, s.cfg.TokenMsgsBurst, now)
		b = &nb
		sec.http[id.TokenID] = b
	}
	return b.allow(now)
}
