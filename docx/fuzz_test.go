package docx

import (
	"errors"
	"testing"
	"unicode/utf8"
)

// FuzzRead: Read never panics on any input, fails only with its sentinel
// errors, and what it returns stays within its limits.
func FuzzRead(f *testing.F) {
	seed, err := Write(Document{Title: "t", Runs: []Run{{Text: "a\nb"}, {Text: "c", Mark: Inserted, Author: "A"}, {Text: "d\n", Mark: Deleted}}})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add(zipOf(f, "_rels/.rels", minimalRels, "word/document.xml", minimalDoc(`<w:p><w:r><w:t>x</w:t></w:r></w:p>`)))
	f.Add([]byte("PK\x03\x04"))
	lim := Limits{MaxEntries: 50, MaxUnpacked: 1 << 20, MaxText: 10_000}
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Read(data, lim)
		if err != nil {
			if !errors.Is(err, ErrNotZip) && !errors.Is(err, ErrNotDocx) && !errors.Is(err, ErrTooLarge) && !errors.Is(err, ErrBadXML) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		orig, acc := Original(file.Runs), Accepted(file.Runs)
		if n := utf8.RuneCountInString(orig); n > lim.MaxText {
			t.Fatalf("original text of %d code points", n)
		}
		if n := utf8.RuneCountInString(acc); n > lim.MaxText {
			t.Fatalf("accepted text of %d code points", n)
		}
		for _, c := range Changes(file.Runs) {
			if c.Start < 0 || c.End < c.Start || c.End > utf8.RuneCountInString(orig) {
				t.Fatalf("change %+v outside the original text", c)
			}
		}
	})
}
