package web

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestNodeUnitTests runs the browser code's unit and property tests
// (web/test, node --test): the OT client state machine converging with a
// contract-following server, and the UTF-16/code-point conversions. They
// need Node and web/node_modules (`npm ci` in web/; check-bundle.sh does it).
func TestNodeUnitTests(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not installed: cannot run web/test (install Node 20 to run them)")
	}
	if _, err := os.Stat(filepath.Join("node_modules", "ot-text-unicode")); err != nil {
		t.Skip("web/node_modules missing: run `npm ci` in web/ to run web/test")
	}
	cmd := exec.Command(node, "--test", "test/")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node --test test/: %v\n%s", err, out)
	}
	t.Logf("%s", lastLines(string(out), 9))
}

func lastLines(s string, n int) string {
	end := len(s)
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '\n' && i != len(s)-1 {
			n--
			if n == 0 {
				return s[i+1 : end]
			}
		}
	}
	return s
}
