package web

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/draftroom/draftroom/internal/testenv"
)

// TestNodeUnitTests runs the browser code's unit and property tests
// (web/test, node --test): the OT client state machine converging with a
// contract-following server, the UTF-16/code-point conversions, search,
// colours, paragraph direction, the timeline. They need Node and
// web/node_modules: when node_modules is missing (a fresh checkout) the
// test runs `npm ci` itself, which needs npm and the npm registry; it
// skips only when Node or npm is not installed.
func TestNodeUnitTests(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		testenv.MissingTool(t, "node not installed: cannot run web/test (install Node 20 and npm to run them)")
	}
	if !haveModules() {
		npm, err := exec.LookPath("npm")
		if err != nil {
			testenv.MissingTool(t, "web/node_modules missing and npm not installed: install npm (or run `npm ci` in web/) to run web/test")
		}
		// package-lock.json pins every package: the same tree as CI's.
		cmd := exec.Command(npm, "ci", "--no-audit", "--no-fund")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("web/node_modules missing and `npm ci` failed (it needs the npm registry): %v\n%s", err, lastLines(string(out), 15))
		}
		if !haveModules() {
			t.Fatal("`npm ci` ran but web/node_modules/ot-text-unicode is still missing")
		}
	}
	cmd := exec.Command(node, "--test", "test/")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node --test test/: %v\n%s", err, out)
	}
	t.Logf("%s", lastLines(string(out), 9))
}

func haveModules() bool {
	_, err := os.Stat(filepath.Join("node_modules", "ot-text-unicode"))
	return err == nil
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
