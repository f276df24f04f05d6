package server

import (
	"net/http"
)

const placeholderPage = `<!doctype html>
<meta charset="utf-8">
<title>draftroom</title>
<h1>draftroom</h1>
<p>This server was built without the web UI. The API is at <code>/api/docs</code>,
the live protocol at <code>/ws</code> (see docs/PROTOCOL.md).</p>
`

// appCSP is the Content-Security-Policy of the web UI (docs/SECURITY.md):
// scripts, styles and connections only from the server itself (connect-src
// 'self' covers the same-origin WebSocket), the inline styles CodeMirror
// sets, data: images (the icon), blob: (exports are downloaded as blobs),
// no plugins, no <base> rewriting, and no framing by any page
// (clickjacking: frame-ancestors, with X-Frame-Options for older
// browsers).
const appCSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
	"img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; object-src 'none'; " +
	"base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// webHandler serves cfg.Web at /, or a placeholder page, with the
// security headers of the app page on every response.
func (s *Server) webHandler() http.Handler {
	var h http.Handler
	if s.cfg.Web != nil {
		h = http.FileServerFS(s.cfg.Web)
	} else {
		h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/" {
				http.NotFound(w, r)
				return
			}
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write([]byte(placeholderPage))
		})
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hdr := w.Header()
		hdr.Set("Content-Security-Policy", appCSP)
		hdr.Set("X-Frame-Options", "DENY")
		hdr.Set("X-Content-Type-Options", "nosniff")
		hdr.Set("Referrer-Policy", "no-referrer")
		h.ServeHTTP(w, r)
	})
}
