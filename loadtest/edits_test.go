package loadtest

import (
	"testing"
	"unicode/utf8"

	"github.com/draftroom/draftroom/ot"
)

// TestEditorOpsApply checks that every edit applies to a text of the
// length it was made for, that the text stays near its target, and that
// edits are mixed: inserts and deletes, ASCII and beyond.
func TestEditorOpsApply(t *testing.T) {
	ed := NewEditor(7, 300)
	text := ed.Text(300)
	if n := utf8.RuneCountInString(text); n < 300 || n > 340 {
		t.Fatalf("Text(300) has %d code points", n)
	}
	var inserts, deletes, nonASCII, arabic int
	for i := range 20000 {
		op := ed.Next(utf8.RuneCountInString(text))
		if err := op.Check(); err != nil {
			t.Fatalf("edit %d %v: %v", i, op, err)
		}
		next, err := ot.Apply(text, op)
		if err != nil {
			t.Fatalf("edit %d %v on %d code points: %v", i, op, utf8.RuneCountInString(text), err)
		}
		for _, c := range op {
			switch {
			case c.Insert != "":
				inserts++
				if utf8.RuneCountInString(c.Insert) != len(c.Insert) {
					nonASCII++
				}
				for _, r := range c.Insert {
					if r >= 0x600 && r <= 0x6ff {
						arabic++
						break
					}
				}
			case c.Delete > 0:
				deletes++
			}
		}
		text = next
	}
	if n := utf8.RuneCountInString(text); n < 150 || n > 600 {
		t.Errorf("after 20000 edits the text has %d code points, want near 300", n)
	}
	if inserts < 5000 || deletes < 5000 || nonASCII < 1000 || arabic < 100 {
		t.Errorf("edit mix: %d inserts, %d deletes, %d non-ASCII inserts, %d Arabic", inserts, deletes, nonASCII, arabic)
	}
	if op := ed.Next(0); len(op) != 1 || op[0].Insert == "" {
		t.Errorf("edit of an empty text = %v, want an insert", op)
	}
}

func TestEditorSeeded(t *testing.T) {
	a, b := NewEditor(42, 100), NewEditor(42, 100)
	for range 100 {
		if x, y := a.Next(500), b.Next(500); !opsEqual(x, y) {
			t.Fatalf("same seed, different edits: %v and %v", x, y)
		}
	}
}

func opsEqual(a, b ot.Op) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
