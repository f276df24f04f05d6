package docx

import (
	"errors"
	"testing"

	"github.com/draftroom/draftroom/internal/office"
	"github.com/draftroom/draftroom/internal/testenv"
)

// needSoffice skips when LibreOffice is not installed (.ci/run installs it).
func needSoffice(t testing.TB) {
	t.Helper()
	if !office.Available() {
		testenv.MissingTool(t, "%v", office.ErrMissing)
	}
}

// sofficeText converts a .docx to text with LibreOffice.
func sofficeText(t testing.TB, data []byte) string {
	t.Helper()
	s, err := office.Text(t.TempDir(), data)
	if errors.Is(err, office.ErrMissing) {
		testenv.MissingTool(t, "%v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// sofficeChanges accepts or rejects every tracked change in LibreOffice.
func sofficeChanges(t testing.TB, data []byte, accept bool) string {
	t.Helper()
	s, err := office.Changes(t.TempDir(), data, accept)
	if errors.Is(err, office.ErrMissing) {
		testenv.MissingTool(t, "%v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	return s
}
