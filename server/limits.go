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

// allowOp takes one op from the token's op bucket. A nil receiver (open
// mode) allows everything.
func (l *tokenLimits) allowOp(now time.Time) bool {
	if l == nil {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.ops.allow(now)
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
	tokens  map[string]*tokenLimits // by token id; entries with no session are dropped
	revoked map[string]bool         // token ids revoked through this server
	sweep   sync.Once
	noAudit sync.Once // logs once that the store keeps no audit log
}

// admit registers a session that has just authenticated as id, before it
// is welcomed: it enforces MaxConnsPerToken, attaches the token's shared
// buckets to the session and records the login in the audit log. Open-mode
// identities are admitted without any of this. It runs on the session's
// read goroutine.
func (s *Server) admit(c *Session, id Identity, client string) error {
	if id.TokenID == "" {
		return nil
	}
	sec := &s.sec
	sec.mu.Lock()
	if sec.revoked[id.TokenID] {
		sec.mu.Unlock()
		return Errorf(ErrUnauthorized, "this token was revoked")
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
		return Errorf(ErrRateLimited, "this token already has %d open connections, the most allowed; close one first", s.cfg.MaxConnsPerToken)
	}
	l.sessions[c] = struct{}{}
	c.limits = l
	sec.mu.Unlock()
	sec.sweep.Do(func() { go s.recheckTokens() })

	from := ""
	if c.nc != nil {
		from = c.nc.RemoteAddr().String()
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.CommitTimeout)
	defer cancel()
	s.Audit(ctx, id, ActionLogin, "", "token="+id.TokenID+" client="+client+" from="+from)
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
	frame := encode(errorMsg{Type: "error", Code: CodeUnauthorized, Message: why})
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
	ts, ok := s.store.(auth.Store)
	if !ok {
		return
	}
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
			tok, err := ts.Token(ctx, id)
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
