package akn

import (
	"errors"
	"testing"
	"unicode/utf8"
)

// FuzzImport: Import never panics, fails only with its sentinel errors,
// stays within its text limit, and what it reads exports and reads back
// to the same text.
func FuzzImport(f *testing.F) {
	seed, err := Export(Document{Draft: "d", Nodes: []*Node{{Kind: Article, Num: "Article 1", Head: "Article 1 Scope", Children: []*Node{{Kind: Paragraph, Num: "1.", Head: "1. The [a/b] text."}}}}})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte(`<akomaNtoso xmlns="` + Namespace + `"><doc><mainBody><p>x</p><section><num>1</num><heading>h</heading></section></mainBody></doc></akomaNtoso>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := Import(data, 10_000)
		if err != nil {
			if !errors.Is(err, ErrBadXML) && !errors.Is(err, ErrNotAKN) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		text := d.Text()
		if utf8.RuneCountInString(text) > 10_000+10_000 {
			t.Fatalf("text of %d code points", utf8.RuneCountInString(text))
		}
		out, err := Export(d)
		if err != nil {
			t.Fatalf("export of an imported document: %v", err)
		}
		back, err := Import(out, 0)
		if err != nil || back.Text() != text {
			t.Fatalf("export → import gives %q (%v), want %q", back.Text(), err, text)
		}
	})
}
