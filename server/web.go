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

// webHandler serves cfg.Web at /, or a placeholder page.
func (s *Server) webHandler() http.Handler {
	if s.cfg.Web != nil {
		return http.FileServerFS(s.cfg.Web)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(placeholderPage))
	})
}
