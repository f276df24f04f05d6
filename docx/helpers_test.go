package docx

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// needSoffice skips when LibreOffice is not installed (.ci/run installs it).
func needSoffice(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("soffice")
	if err != nil {
		t.Skip("soffice (LibreOffice) is not installed: apt-get install libreoffice-writer-nogui")
	}
	return p
}

// sofficeText converts a .docx to UTF-8 text with LibreOffice, headless,
// in a profile of its own (so that tests running at once do not share one).
func sofficeText(t testing.TB, data []byte) string {
	t.Helper()
	soffice := needSoffice(t)
	dir := t.TempDir()
	in := filepath.Join(dir, "in.docx")
	if err := os.WriteFile(in, data, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(soffice, "-env:UserInstallation=file://"+filepath.Join(dir, "profile"), "--headless", "--norestore",
		"--convert-to", "txt:Text (encoded):UTF8,LF", "--outdir", dir, in)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("soffice --convert-to txt: %v\n%s", err, out)
	}
	b, err := os.ReadFile(filepath.Join(dir, "in.txt"))
	if err != nil {
		t.Fatalf("soffice wrote no text: %v", err)
	}
	return strings.TrimPrefix(string(bytes.TrimSuffix(b, []byte("\n"))), "\uFEFF")
}

// sofficeChanges accepts (accept true) or rejects every tracked change of
// a .docx in LibreOffice, headless, through the Changes macro of
// testdata/lo/Module1.xba, and returns the resulting text.
func sofficeChanges(t testing.TB, data []byte, accept bool) string {
	t.Helper()
	needSoffice(t)
	dir := t.TempDir()
	profile := filepath.Join(dir, "profile")
	if out, err := exec.Command("bash", "testdata/lo/profile.sh", profile).CombinedOutput(); err != nil {
		t.Fatalf("profile.sh: %v\n%s", err, out)
	}
	in, out := filepath.Join(dir, "in.docx"), filepath.Join(dir, "out.txt")
	if err := os.WriteFile(in, data, 0o644); err != nil {
		t.Fatal(err)
	}
	mode := "reject"
	if accept {
		mode = "accept"
	}
	macro := `macro:///Standard.Module1.Changes("file://` + in + `","file://` + out + `","` + mode + `")`
	if b, err := exec.Command("soffice", "-env:UserInstallation=file://"+profile, "--headless", "--norestore", macro).CombinedOutput(); err != nil {
		t.Fatalf("soffice %s: %v\n%s", macro, err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("the %s macro wrote no text (did LibreOffice run it?): %v", mode, err)
	}
	return strings.TrimPrefix(string(bytes.TrimSuffix(b, []byte("\n"))), "\uFEFF")
}
