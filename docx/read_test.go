package docx

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

func mustPart(t testing.TB, data []byte, name string) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range zr.File {
		if f.Name == name {
			rc, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			defer rc.Close()
			b, err := io.ReadAll(rc)
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
	}
	t.Fatalf("no part %s", name)
	return nil
}

// zipOf builds a zip of the given parts (name, content), in order.
func zipOf(t testing.TB, parts ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for i := 0; i+1 < len(parts); i += 2 {
		w, err := zw.Create(parts[i])
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(parts[i+1])); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

const minimalRels = `<?xml version="1.0"?><Relationships xmlns="` + nsRel + `"><Relationship Id="r" Type="` + relOfficeDocument + `" Target="word/document.xml"/></Relationships>`

func minimalDoc(body string) string {
	return `<?xml version="1.0"?><w:document xmlns:w="` + nsW + `"><w:body>` + body + `</w:body></w:document>`
}

func TestReadRefusesBadInput(t *testing.T) {
	bomb := strings.Repeat("a", 2<<20)
	many := []string{"_rels/.rels", minimalRels, "word/document.xml", minimalDoc("")}
	for i := range 1001 {
		many = append(many, "x/"+strings.Repeat("y", i%7)+string(rune('a'+i%26))+"/"+itoa(i), "")
	}
	cases := []struct {
		name string
		data []byte
		lim  Limits
		want error
	}{
		{"not a zip", []byte("PK but not really"), DefaultLimits, ErrNotZip},
		{"empty", nil, DefaultLimits, ErrNotZip},
		{"zip without relationships", zipOf(t, "a.txt", "hello"), DefaultLimits, ErrNotDocx},
		{"no main document", zipOf(t, "_rels/.rels", minimalRels), DefaultLimits, ErrNotDocx},
		{"spreadsheet, not WordprocessingML", zipOf(t, "_rels/.rels", minimalRels, "word/document.xml", `<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"/>`), DefaultLimits, ErrNotDocx},
		{"wrong namespace", zipOf(t, "_rels/.rels", minimalRels, "word/document.xml", `<w:document xmlns:w="urn:other"/>`), DefaultLimits, ErrNotDocx},
		{"DTD with entities", zipOf(t, "_rels/.rels", minimalRels, "word/document.xml",
			`<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>`+minimalDoc(`<w:p><w:r><w:t>&b;</w:t></w:r></w:p>`)), DefaultLimits, ErrBadXML},
		{"external entity", zipOf(t, "_rels/.rels", minimalRels, "word/document.xml",
			`<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>`+minimalDoc(`<w:p><w:r><w:t>&x;</w:t></w:r></w:p>`)), DefaultLimits, ErrBadXML},
		{"undefined entity", zipOf(t, "_rels/.rels", minimalRels, "word/document.xml", minimalDoc(`<w:p><w:r><w:t>&x;</w:t></w:r></w:p>`)), DefaultLimits, ErrBadXML},
		{"not well-formed", zipOf(t, "_rels/.rels", minimalRels, "word/document.xml", minimalDoc(`<w:p><w:r>`)), DefaultLimits, ErrBadXML},
		{"too much unpacked", zipOf(t, "_rels/.rels", minimalRels, "word/document.xml", minimalDoc(`<w:p><w:r><w:t>`+bomb+`</w:t></w:r></w:p>`)), Limits{MaxEntries: 10, MaxUnpacked: 1 << 20, MaxText: 1 << 30}, ErrTooLarge},
		{"too many entries", zipOf(t, many...), DefaultLimits, ErrTooLarge},
		{"text too long", zipOf(t, "_rels/.rels", minimalRels, "word/document.xml", minimalDoc(`<w:p><w:r><w:t>`+bomb+`</w:t></w:r></w:p>`)), Limits{MaxEntries: 10, MaxUnpacked: 1 << 30, MaxText: 1000}, ErrTooLarge},
		{"nested too deep", zipOf(t, "_rels/.rels", minimalRels, "word/document.xml", minimalDoc(strings.Repeat("<w:sdt>", 300)+strings.Repeat("</w:sdt>", 300))), DefaultLimits, ErrBadXML},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, err := Read(c.data, c.lim)
			if !errors.Is(err, c.want) {
				t.Fatalf("Read = %v, %v; want %v", f, err, c.want)
			}
		})
	}
}

func itoa(i int) string {
	var b []byte
	for {
		b = append([]byte{byte('0' + i%10)}, b...)
		if i /= 10; i == 0 {
			return string(b)
		}
	}
}

func TestReadSkipsNonText(t *testing.T) {
	doc := minimalDoc(`<w:p><w:r><w:t>a</w:t></w:r><w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText> PAGE </w:instrText></w:r>` +
		`<w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>1</w:t></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r>` +
		`<w:r><w:drawing><w:txbxContent><w:p><w:r><w:t>box</w:t></w:r></w:p></w:txbxContent></w:drawing></w:r>` +
		`<w:r><w:tab/><w:t>b</w:t><w:br/><w:t>c</w:t><w:br w:type="page"/></w:r></w:p>` +
		`<w:p><w:pPr><w:rPr><w:del w:id="9" w:author="A"/></w:rPr></w:pPr><w:del w:id="1" w:author="A"><w:r><w:delText>gone</w:delText></w:r></w:del></w:p><w:p><w:r><w:t>d</w:t></w:r></w:p>`)
	f, err := Read(zipOf(t, "_rels/.rels", minimalRels, "word/document.xml", doc), DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := Accepted(f.Runs), "a1\tb\nc\nd"; got != want {
		t.Errorf("accepted %q, want %q", got, want)
	}
	if got, want := Original(f.Runs), "a1\tb\nc\ngone\nd"; got != want {
		t.Errorf("original %q, want %q", got, want)
	}
}
