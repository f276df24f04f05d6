package main

import "io/fs"

// webFS is the web UI served at /. The web/ package does not embed a
// bundle yet, so the server shows its placeholder page.
func webFS() fs.FS { return nil }
