// Package web holds the draftroom browser app, built into dist/ and embedded
// in the binary so that `go run .` and a browser are all a user needs.
//
// The sources are in src/ (CodeMirror 6 + ot-text-unicode); `npm run build`
// rewrites dist/, which is committed so the Go build never needs Node.
// check-bundle.sh verifies that the committed dist/ matches the sources.
package web

import (
	"embed"
	"io/fs"
)

//go:embed dist
var dist embed.FS

// FS is the built app rooted at dist/: index.html, app.js, app.css and
// LICENSES.txt. The server serves it at "/" (http.FileServerFS(web.FS)).
var FS fs.FS = mustSub(dist, "dist")

func mustSub(f fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(f, dir)
	if err != nil {
		// Only possible if the embed directive and dir disagree: a build bug.
		panic("web: " + err.Error())
	}
	return sub
}
