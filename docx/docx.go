// Package docx writes and reads WordprocessingML (.docx) documents for
// draftroom: a draft's text as one Word paragraph per line, with heading
// styles, right-to-left paragraphs, a header with the title and revision,
// and optionally the changes from an earlier revision as tracked changes
// (w:ins / w:del) attributed to who made them and when.
//
// The model is a flat sequence of Runs: text in which '\n' ends a
// paragraph, each run plain, inserted or deleted. Reading the equal and
// deleted runs gives the original text, the equal and inserted runs the
// revised one, exactly as history.Segment does for a diff.
//
// The package does no I/O beyond the bytes it is given and depends only on
// the standard library (archive/zip, encoding/xml). The reader bounds what
// it unpacks (entry count, unpacked size, text length) and refuses DTDs,
// so a hostile upload costs bounded memory and time.
package docx

import (
	"errors"
	"strings"
	"time"
)

// Sentinel errors of Read. Each is wrapped with a reason a person can act
// on; test them with errors.Is.
var (
	// ErrNotZip: the body is not a zip archive.
	ErrNotZip = errors.New("docx: not a zip archive")
	// ErrNotDocx: a zip, but not a WordprocessingML document (no main
	// document part, or it is not WordprocessingML).
	ErrNotDocx = errors.New("docx: not a WordprocessingML document")
	// ErrTooLarge: too many entries, too much unpacked data (a zip bomb),
	// or a text longer than Limits.MaxText.
	ErrTooLarge = errors.New("docx: document too large")
	// ErrBadXML: a part is not well-formed XML, or declares a DTD or
	// entities (refused outright: no external entities, no expansion).
	ErrBadXML = errors.New("docx: malformed XML")
)

// Mark says whether a run is unchanged, a tracked insertion or a tracked
// deletion.
type Mark uint8

// Marks.
const (
	Plain Mark = iota
	Inserted
	Deleted
)

func (m Mark) String() string {
	switch m {
	case Inserted:
		return "inserted"
	case Deleted:
		return "deleted"
	}
	return "plain"
}

// Run is a piece of text with one mark. Text may hold '\n', which ends a
// paragraph; the paragraph mark carries the run's Mark (a deleted '\n'
// joins two paragraphs when the change is accepted). Author and Date are
// set on tracked runs: the w:author and w:date of the change.
type Run struct {
	Text   string
	Mark   Mark
	Author string
	Date   time.Time
}

// Original returns the text before the tracked changes: the plain and
// deleted runs.
func Original(runs []Run) string { return join(runs, Inserted) }

// Accepted returns the text with every tracked change accepted: the plain
// and inserted runs.
func Accepted(runs []Run) string { return join(runs, Deleted) }

func join(runs []Run, skip Mark) string {
	n := 0
	for _, r := range runs {
		if r.Mark != skip {
			n += len(r.Text)
		}
	}
	var b strings.Builder
	b.Grow(n)
	for _, r := range runs {
		if r.Mark != skip {
			b.WriteString(r.Text)
		}
	}
	return b.String()
}
