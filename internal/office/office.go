// Package office runs LibreOffice headless as the judge of the documents
// draftroom writes: it converts a .docx to text, and accepts or rejects
// all of its tracked changes through the macros of Module1.xba. Tests use
// it; it is not part of the server.
package office

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Module1 holds the Basic macros (library Standard) the tests run.
//
//go:embed Module1.xba
var Module1 []byte

// ErrMissing: LibreOffice (soffice) is not installed.
var ErrMissing = errors.New("office: soffice (LibreOffice) is not installed: apt-get install libreoffice-writer-nogui")

// Available reports whether soffice is on the PATH.
func Available() bool {
	_, err := exec.LookPath("soffice")
	return err == nil
}

// Profile makes dir a LibreOffice user profile holding Module1's macros
// and returns its -env:UserInstallation argument. LibreOffice writes its
// default Standard library into a new profile on its first start, so the
// profile is created first and the macros copied after.
func Profile(dir string) (string, error) {
	if !Available() {
		return "", ErrMissing
	}
	arg := "-env:UserInstallation=file://" + dir
	std := filepath.Join(dir, "user", "basic", "Standard")
	if _, err := os.Stat(std); err != nil {
		if out, err := exec.Command("soffice", arg, "--headless", "--norestore", "--terminate_after_init").CombinedOutput(); err != nil {
			return "", fmt.Errorf("office: initialise a profile: %v\n%s", err, out)
		}
	}
	if err := os.MkdirAll(std, 0o755); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(std, "Module1.xba"), Module1, 0o644); err != nil {
		return "", err
	}
	return arg, nil
}

// text reads a text file LibreOffice wrote, without its byte order mark.
func text(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("office: LibreOffice wrote no text: %w", err)
	}
	return strings.TrimPrefix(string(b), "\uFEFF"), nil
}

// Text converts a .docx to UTF-8 text with soffice --convert-to txt, in a
// profile of its own under work (a temporary directory). LibreOffice ends
// every paragraph with a newline, the last one included; Text removes that
// last one, so that a draft's text comes back as it is.
func Text(work string, docx []byte) (string, error) {
	arg, err := Profile(filepath.Join(work, "profile"))
	if err != nil {
		return "", err
	}
	in := filepath.Join(work, "in.docx")
	if err := os.WriteFile(in, docx, 0o644); err != nil {
		return "", err
	}
	cmd := exec.Command("soffice", arg, "--headless", "--norestore", "--convert-to", "txt:Text (encoded):UTF8,LF", "--outdir", work, in)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("office: soffice --convert-to txt: %v\n%s", err, out)
	}
	s, err := text(filepath.Join(work, "in.txt"))
	return strings.TrimSuffix(s, "\n"), err
}

// Changes accepts (accept true) or rejects every tracked change of a
// .docx in LibreOffice through the Changes macro, and returns the text.
func Changes(work string, docx []byte, accept bool) (string, error) {
	arg, err := Profile(filepath.Join(work, "profile"))
	if err != nil {
		return "", err
	}
	in, out := filepath.Join(work, "changes.docx"), filepath.Join(work, "changes.txt")
	if err := os.WriteFile(in, docx, 0o644); err != nil {
		return "", err
	}
	os.Remove(out)
	mode := "reject"
	if accept {
		mode = "accept"
	}
	macro := `macro:///Standard.Module1.Changes("file://` + in + `","file://` + out + `","` + mode + `")`
	if b, err := exec.Command("soffice", arg, "--headless", "--norestore", macro).CombinedOutput(); err != nil {
		return "", fmt.Errorf("office: soffice %s: %v\n%s", macro, err, b)
	}
	s, err := text(out)
	return strings.TrimSuffix(s, "\n"), err // as Text
}

// Edit opens a .docx in LibreOffice with change recording on, as author,
// replaces each search string with its replacement (see the Edit macro:
// "^s" inserts after s, an empty replacement deletes) and returns the
// document LibreOffice saves as Word 2007-365.
func Edit(work string, docx []byte, author string, edits [][2]string) ([]byte, error) {
	arg, err := Profile(filepath.Join(work, "profile"))
	if err != nil {
		return nil, err
	}
	in, out := filepath.Join(work, "edit-in.docx"), filepath.Join(work, "edit-out.docx")
	if err := os.WriteFile(in, docx, 0o644); err != nil {
		return nil, err
	}
	var s, r []string
	for _, e := range edits {
		s, r = append(s, e[0]), append(r, e[1])
	}
	q := func(v string) string { return strings.ReplaceAll(v, `"`, `""`) }
	macro := `macro:///Standard.Module1.Edit("file://` + in + `","file://` + out + `","` + q(author) + `","` + q(strings.Join(s, "|")) + `","` + q(strings.Join(r, "|")) + `")`
	if b, err := exec.Command("soffice", arg, "--headless", "--norestore", macro).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("office: soffice %s: %v\n%s", macro, err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		return nil, fmt.Errorf("office: the Edit macro saved nothing: %w", err)
	}
	return bytes.Clone(b), nil
}
