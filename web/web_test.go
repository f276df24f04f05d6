package web

import (
	"io/fs"
	"strings"
	"testing"
)

// TestFSServesTheBuiltApp checks that the embedded bundle is rooted at dist/
// and that index.html loads the files the build writes.
func TestFSServesTheBuiltApp(t *testing.T) {
	index, err := fs.ReadFile(FS, "index.html")
	if err != nil {
		t.Fatalf("read index.html: %v", err)
	}
	for _, ref := range []string{`src="app.js"`, `href="app.css"`} {
		if !strings.Contains(string(index), ref) {
			t.Errorf("index.html does not reference %s", ref)
		}
	}
	for _, name := range []string{"app.js", "app.css", "LICENSES.txt"} {
		b, err := fs.ReadFile(FS, name)
		if err != nil {
			t.Fatalf("read %s: %v", name, err)
		}
		if len(b) < 1000 {
			t.Errorf("%s is %d bytes: the bundle looks empty", name, len(b))
		}
	}
	js, _ := fs.ReadFile(FS, "app.js")
	// The bundle must carry its OT type and the protocol's hello.
	for _, want := range []string{`text-unicode"`, `"hello"`} {
		if !strings.Contains(string(js), want) {
			t.Errorf("app.js does not contain %q", want)
		}
	}
}
