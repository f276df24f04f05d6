package server

import (
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/draftroom/draftroom/dr"
)

// checkOrigin decides whether a WebSocket upgrade may proceed. A browser
// always sends Origin, and a page on another site must not be able to open
// a socket with a visitor's stored credential, so a request with an Origin
// is allowed only from the server's own origin (the Origin's host equals
// the request's Host, as a reverse proxy that passes Host on keeps it) or
// from an origin listed in Config.AllowOrigins ("*" allows any: for
// development only). Requests without Origin come from programs (the Go
// client, the load tool), which carry their own credential.
func (s *Server) checkOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	if OriginAllowed(origin, r.Host, s.cfg.AllowOrigins) {
		return true
	}
	s.log.Warn("websocket origin refused", "origin", dr.Clip(origin), "host", dr.Clip(r.Host), "remote", r.RemoteAddr)
	return false
}

// OriginAllowed reports whether a browser Origin header may open a
// WebSocket on a server reached as host, given the allow-list of extra
// origins (scheme://host[:port], compared without case; "*" allows any).
func OriginAllowed(origin, host string, allow []string) bool {
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return false
	}
	if strings.EqualFold(u.Host, host) {
		return true
	}
	norm := strings.TrimSuffix(strings.ToLower(origin), "/")
	for _, a := range allow {
		if a == "*" || strings.TrimSuffix(strings.ToLower(a), "/") == norm {
			return true
		}
	}
	return false
}

// guardOpen protects open mode, whose identities need no credential, from
// the browser attacks that ride on a visitor's network position rather
// than on a credential (docs/SECURITY.md "Open mode"):
//
//   - DNS rebinding: a page on a name the attacker controls, rebound to
//     this server's address, reaches it with its own name in Host (and a
//     matching Origin, so the WebSocket origin check passes). Every
//     request, HTTP and WebSocket, must name in Host an IP address,
//     localhost, or a host of Config.AllowHosts (main adds the name of the
//     listen address); others get 403 forbidden.
//   - Cross-site request forgery: a page may POST to any address without a
//     preflight if the body is text/plain, a form or multipart (or has no
//     type) and no header of its own is set. A request that changes state
//     (any method but GET, HEAD and OPTIONS) and carries no bearer token
//     must be one a page can only send after a CORS preflight, which this
//     server never grants: a Content-Type other than those
//     (application/json, a .docx upload's) or an X-Draftroom-* header.
//     Others get 415 bad_request and change nothing.
//
// With a token neither applies: a page cannot make a browser send a token
// (it travels in Authorization, never in a cookie). Outside open mode
// (never on, or ended: operations.go) requests pass as they are.
func (s *Server) guardOpen(h http.Handler) http.Handler {
	if !s.cfg.Open {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.open.on.Load() {
			h.ServeHTTP(w, r)
			return
		}
		if !HostAllowed(r.Host, s.cfg.AllowHosts) {
			if s.sec.hostWarn.allow(time.Now()) {
				s.log.Warn("open mode: request for a host this server does not answer to (at most one such line a minute)", "host", dr.Clip(r.Host), "remote", r.RemoteAddr)
			}
			s.writeError(w, r, dr.Errorf(dr.CodeForbidden, "this server (open mode) does not answer to the host %q; start it with -allow-host %s if that is its name", dr.Clip(r.Host), dr.Clip(hostOnly(r.Host))))
			return
		}
		if changesState(r.Method) && !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") && !preflighted(r) {
			WriteJSON(w, http.StatusUnsupportedMediaType, map[string]any{"error": map[string]string{
				"code":    dr.CodeBadRequest,
				"message": "a request that changes something must be sent with Content-Type: application/json (or the media type of the file it uploads); text/plain, forms and multipart are refused, as any web page can send them",
			}})
			return
		}
		h.ServeHTTP(w, r)
	})
}

func changesState(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return true
}

// preflighted reports whether a browser could send r to another origin
// only after a CORS preflight: it has a Content-Type that is not one of
// the three a page may send freely (text/plain, forms, multipart), or a
// header of draftroom's own (X-Draftroom-*: the web UI's open-mode
// identity).
func preflighted(r *http.Request) bool {
	for name := range r.Header {
		if strings.HasPrefix(name, "X-Draftroom-") {
			return true
		}
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		return false
	}
	switch mt {
	case "text/plain", "application/x-www-form-urlencoded", "multipart/form-data":
		return false
	}
	return true
}

// hostOnly is the host of a Host header, without port or IPv6 brackets.
func hostOnly(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return strings.TrimSuffix(strings.TrimPrefix(hostport, "["), "]")
}

// HostAllowed reports whether a request's Host may reach a server in open
// mode: an IP address (a page reaching it by address is on that origin
// itself: DNS rebinding needs a name), localhost and *.localhost (which
// resolve to loopback without DNS), a name reserved for examples and
// tests (RFC 2606: example.com/.net/.org and *.example, *.test, *.invalid,
// which no one can point at this server from the public DNS; Go's
// httptest requests name example.com), or a host in allow (compared
// without case and port; "*" allows any). An empty Host (HTTP/1.0) is
// refused.
func HostAllowed(hostport string, allow []string) bool {
	host := strings.ToLower(strings.TrimSuffix(hostOnly(hostport), "."))
	if host == "" {
		return false
	}
	if net.ParseIP(host) != nil || reservedHost(host) {
		return true
	}
	for _, a := range allow {
		if a == "*" || strings.ToLower(strings.TrimSuffix(hostOnly(a), ".")) == host {
			return true
		}
	}
	return false
}

// logEvery lets a repeated log line through at most once per period, so
// that a flood of refused requests cannot fill the disk with log lines.
type logEvery struct {
	mu     sync.Mutex
	period time.Duration // 0: a minute
	last   time.Time
}

func (l *logEvery) allow(now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	period := l.period
	if period == 0 {
		period = time.Minute
	}
	if !l.last.IsZero() && now.Sub(l.last) < period {
		return false
	}
	l.last = now
	return true
}

// reservedHost reports whether host is localhost or a name reserved by
// RFC 2606 / RFC 6761, which the public DNS cannot point at an attacker's
// choice of address.
func reservedHost(host string) bool {
	for _, name := range []string{"localhost", "example.com", "example.net", "example.org"} {
		if host == name || strings.HasSuffix(host, "."+name) {
			return true
		}
	}
	for _, tld := range []string{".localhost", ".example", ".test", ".invalid"} {
		if strings.HasSuffix(host, tld) {
			return true
		}
	}
	return false
}
