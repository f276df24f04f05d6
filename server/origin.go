package server

import (
	"net/http"
	"net/url"
	"strings"
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
	s.log.Warn("websocket origin refused", "origin", clip(origin), "host", clip(r.Host), "remote", r.RemoteAddr)
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
