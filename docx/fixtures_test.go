package docx

import (
	"os"
	"reflect"
	"testing"
	"time"
)

// The fixtures of testdata/make-fixtures.sh: the same three edits, written
// by LibreOffice (change recording on) and by the docx npm package.
const (
	fixtureOriginal = "Article 1\n1. The Parties shall cooperate in good faith.\n2. Each Party may report."
	fixtureAccepted = "Article 1\n1. The Parties should cooperate.\n2. Each Party may report annually."
)

func TestReadFixtures(t *testing.T) {
	npmDate := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		file    string
		authors []string
		date    time.Time // zero: whatever the writer recorded, as long as there is one
	}{
		{"testdata/libreoffice-tracked.docx", []string{"Jean Dupont", "Jean Dupont", "Jean Dupont"}, time.Time{}},
		{"testdata/npm-tracked.docx", []string{"Jean Dupont", "Ana Silva", "Jean Dupont"}, npmDate},
	} {
		t.Run(c.file, func(t *testing.T) {
			data, err := os.ReadFile(c.file)
			if err != nil {
				t.Fatal(err)
			}
			f, err := Read(data, DefaultLimits)
			if err != nil {
				t.Fatal(err)
			}
			if !f.Tracked {
				t.Error("no tracked changes found")
			}
			if got := Original(f.Runs); got != fixtureOriginal {
				t.Errorf("original %q, want %q", got, fixtureOriginal)
			}
			if got := Accepted(f.Runs); got != fixtureAccepted {
				t.Errorf("accepted %q, want %q", got, fixtureAccepted)
			}
			changes := Changes(f.Runs)
			var spans [][2]int
			var texts, authors []string
			for _, ch := range changes {
				spans = append(spans, [2]int{ch.Start, ch.End})
				texts = append(texts, ch.Text)
				authors = append(authors, ch.Author)
				if ch.Date.IsZero() || (!c.date.IsZero() && !ch.Date.Equal(c.date)) {
					t.Errorf("change %+v: date %v, want %v", ch, ch.Date, c.date)
				}
			}
			// "shall" → "should", " in good faith" deleted, " annually" inserted.
			wantSpans := [][2]int{{25, 30}, {40, 54}, {80, 80}}
			if !reflect.DeepEqual(spans, wantSpans) || !reflect.DeepEqual(texts, []string{"should", "", " annually"}) || !reflect.DeepEqual(authors, c.authors) {
				t.Errorf("changes %+v", changes)
			}
		})
	}
}
