package main

import (
	"io/fs"

	"github.com/draftroom/draftroom/web"
)

// webFS is the web UI served at /: the bundle embedded by package web.
func webFS() fs.FS { return web.FS }
