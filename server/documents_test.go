package server_test

import (
	"archive/zip"
	"bytes"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/draftroom/draftroom/akn"
	"github.com/draftroom/draftroom/docx"
	"github.com/draftroom/draftroom/internal/office"
	"github.com/draftroom/draftroom/internal/testenv"
	"github.com/draftroom/draftroom/ot"
	"github.com/draftroom/draftroom/server"
	"github.com/draftroom/draftroom/storage"
)

// postBody makes a POST as w with a raw body of content type ctype.
func (ls *liveServer) postBody(w who, path, ctype string, body []byte, out any) int {
	ls.t.Helper()
	req, _ := http.NewRequest("POST", ls.http.URL+path, bytes.NewReader(body))
	req.Header.Set("Content-Type", ctype)
	req.Header.Set(server.HeaderDelegation, w.delegation)
	req.Header.Set(server.HeaderName, w.name)
	req.Header.Set(server.HeaderRole, w.role)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		ls.t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	buf.ReadFrom(resp.Body)
	ls.decode("POST", path, buf.Bytes(), out)
	return resp.StatusCode
}

// export fetches an export and checks its media type.
func (ls *liveServer) export(path, mediaType string) []byte {
	ls.t.Helper()
	code, body, ct := ls.getRaw(chair, path)
	if code != http.StatusOK || ct != mediaType {
		ls.t.Fatalf("GET %s: status %d, %s: %s", path, code, ct, body)
	}
	return body
}

// officeOrSkip returns the result of a call to package office, turning
// a missing LibreOffice into a skip and any other error into a failure.
func officeOrSkip[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if errors.Is(err, office.ErrMissing) {
			testenv.MissingTool(t, "%v", err)
		}
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func zipPart(t *testing.T, data []byte, name string) string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range zr.File {
		if f.Name == name {
			rc, _ := f.Open()
			var b bytes.Buffer
			b.ReadFrom(rc)
			rc.Close()
			return b.String()
		}
	}
	t.Fatalf("no %s in the docx", name)
	return ""
}

const mediaDocx = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

// TestExportDocx: the .docx of a revision reads, in LibreOffice, as the
// draft's text; with against, LibreOffice's accept-all gives the text at
// rev and reject-all the text at against, and every change is attributed
// to the delegation and person who made it.
func TestExportDocx(t *testing.T) {
	ls := startServer(t, storage.NewMemory(), server.Config{Now: tickingClock()})
	initial := "Draft convention on cooperation\nChapter I General provisions\nArticle 1 Scope\n1. The Parties shall cooperate.\n2. تتعاون الأطراف\n"
	ls.create("tr", initial)
	can := ls.wsAs(canada, "tr-can")
	can.send(`{"type":"open","doc":"tr"}`)
	can.expect("snapshot")
	at := strings.Index(initial, "shall")
	cp := len([]rune(initial[:at]))
	can.edit("tr", 0, 1, ot.Op{ot.Skip(cp), ot.Delete(5), ot.Insert("should")})
	us := ls.wsAs(usa, "tr-usa")
	us.send(`{"type":"open","doc":"tr"}`)
	us.expect("snapshot")
	n := len([]rune(initial)) + 1
	us.edit("tr", 1, 1, ot.Op{ot.Skip(n), ot.Insert("Article 2 Review\n1. The Parties [shall/may] review it.")})
	head := ls.get("tr").Text

	plain := ls.export("/api/docs/tr/export?format=docx", mediaDocx)
	if got := officeOrSkip[string](t)(office.Text(t.TempDir(), plain)); got != head {
		t.Errorf("LibreOffice reads the export as\n%q\nwant\n%q", got, head)
	}
	body := zipPart(t, plain, "word/document.xml")
	for _, want := range []string{`<w:pStyle w:val="Heading1"/>`, `<w:pStyle w:val="Heading2"/>`, `<w:bidi/>`, `[shall/may]`} {
		if !strings.Contains(body, want) {
			t.Errorf("document.xml lacks %s", want)
		}
	}
	if c := zipPart(t, plain, "word/comments.xml"); !strings.Contains(c, "1. “shall” proposed by USA — Bob") || !strings.Contains(c, "2. “may”") {
		t.Errorf("comments.xml lacks the bracket group [shall/may] and who proposed it:\n%s", c)
	}
	if h := zipPart(t, plain, "word/header1.xml"); !strings.Contains(h, "tr — Rev. 2") {
		t.Errorf("header %s lacks the title and revision", h)
	}

	tracked := ls.export("/api/docs/tr/export?format=docx&rev=2&against=0", mediaDocx)
	f, err := docx.Read(tracked, docx.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	if docx.Original(f.Runs) != initial || docx.Accepted(f.Runs) != head {
		t.Fatalf("tracked export reads as\n%q\n%q", docx.Original(f.Runs), docx.Accepted(f.Runs))
	}
	authors := map[string]bool{}
	for _, r := range f.Runs {
		if r.Mark != docx.Plain {
			authors[r.Author] = true
			if r.Date.IsZero() {
				t.Errorf("change %+v has no date", r)
			}
		}
	}
	if !authors["CAN — Ana"] || !authors["USA — Bob"] || len(authors) != 2 {
		t.Errorf("authors %v, want CAN — Ana and USA — Bob", authors)
	}
	if f.Properties["draftroom.rev"] != "2" || f.Properties["draftroom.against"] != "0" || f.Properties["draftroom.draft"] != "tr" {
		t.Errorf("properties %v", f.Properties)
	}
	if got := officeOrSkip[string](t)(office.Changes(t.TempDir(), tracked, true)); got != head {
		t.Errorf("accept all gives\n%q\nwant\n%q", got, head)
	}
	if got := officeOrSkip[string](t)(office.Changes(t.TempDir(), tracked, false)); got != initial {
		t.Errorf("reject all gives\n%q\nwant\n%q", got, initial)
	}

	var e errView
	if code := ls.call(chair, "GET", "/api/docs/tr/export?format=docx&rev=0&against=2", nil, &e); code != http.StatusBadRequest || e.Error.Code != "bad_request" {
		t.Errorf("against after rev: status %d %+v", code, e)
	}
}

type importView struct {
	Doc       string
	Base      int
	Tracked   bool
	Proposals []server.ImportedChangeJSON
	NotPlaced []server.ImportedChangeJSON `json:"not_placed"`
}

// TestImportDocx: a copy of revision 0 marked up in LibreOffice (record
// changes on) comes back as one proposal per change by the importing
// delegation, the Word author in each proposal's note, and the text typed
// since revision 0 is kept.
func TestImportDocx(t *testing.T) {
	if !office.Available() {
		testenv.MissingTool(t, "%v", office.ErrMissing)
	}
	ls := startServer(t, storage.NewMemory(), server.Config{})
	initial := "Article 1\n1. The Parties shall cooperate in good faith.\n2. Each Party may report."
	ls.create("imp", initial)
	exported := ls.export("/api/docs/imp/export?format=docx", mediaDocx)
	marked := officeOrSkip[[]byte](t)(office.Edit(t.TempDir(), exported, "Jean Dupont", [][2]string{
		{"shall", "should"}, {" in good faith", ""}, {"^may report", " annually"},
	}))
	// Meanwhile, a delegation types a preamble.
	us := ls.wsAs(usa, "imp-usa")
	us.send(`{"type":"open","doc":"imp"}`)
	us.expect("snapshot")
	us.edit("imp", 0, 1, ot.Op{ot.Insert("Preamble\n")})

	var out importView
	if code := ls.postBody(canada, "/api/docs/imp/import", mediaDocx, marked, &out); code != http.StatusOK {
		t.Fatalf("import: status %d %+v", code, out)
	}
	if !out.Tracked || out.Base != 0 || len(out.Proposals) != 3 || len(out.NotPlaced) != 0 {
		t.Fatalf("import answered %+v", out)
	}
	want := "Preamble\nArticle 1\n1. The Parties [shall/should] cooperate[ in good faith].\n2. Each Party may report[ annually]."
	if got := ls.get("imp").Text; got != want {
		t.Fatalf("text after the import\n%q\nwant\n%q", got, want)
	}
	props := ls.proposals("imp")
	if len(props) != 3 {
		t.Fatalf("proposals %+v", props)
	}
	for _, p := range props {
		if p.By.Delegation != "CAN" || !strings.Contains(p.Note, "Jean Dupont") {
			t.Errorf("proposal %+v: want by CAN with the Word author in its note", p)
		}
	}
}

// TestImportDocxUntracked: a .docx without revision marks is compared
// with the revision it names, and the differences become proposals.
func TestImportDocxUntracked(t *testing.T) {
	ls := startServer(t, storage.NewMemory(), server.Config{})
	ls.create("un", "The Parties shall meet every year.\nThey may invite observers.")
	revised, err := docx.Write(docx.Document{Runs: []docx.Run{{Text: "The Parties shall meet every two years.\nThey may invite observers."}}})
	if err != nil {
		t.Fatal(err)
	}
	var e errView
	if code := ls.postBody(canada, "/api/docs/un/import", mediaDocx, revised, &e); code != http.StatusBadRequest || !strings.Contains(e.Error.Message, "rev") {
		t.Fatalf("import without rev or properties: status %d %+v", code, e)
	}
	var out importView
	if code := ls.postBody(canada, "/api/docs/un/import?rev=0", mediaDocx, revised, &out); code != http.StatusOK {
		t.Fatalf("import: status %d", code)
	}
	if out.Tracked || len(out.Proposals) != 1 || out.Proposals[0].Deleted != "year" || out.Proposals[0].Inserted != "two years" {
		t.Fatalf("import answered %+v", out)
	}
	if got, want := ls.get("un").Text, "The Parties shall meet every [year/two years].\nThey may invite observers."; got != want {
		t.Fatalf("text %q, want %q", got, want)
	}
}

// TestImportDocxNotPlaced: a change the bracket grammar cannot hold (it
// crosses a group's boundary) is reported with its reason; the others are
// made.
func TestImportDocxNotPlaced(t *testing.T) {
	ls := startServer(t, storage.NewMemory(), server.Config{})
	ls.create("np", "States [shall/may] act now and later.")
	revised, _ := docx.Write(docx.Document{Runs: []docx.Run{{Text: "States [shall/may"}, {Text: "] act", Mark: docx.Deleted, Author: "X"}, {Text: " now and "}, {Text: "much ", Mark: docx.Inserted, Author: "X"}, {Text: "later."}}})
	var out importView
	if code := ls.postBody(canada, "/api/docs/np/import?rev=0", mediaDocx, revised, &out); code != http.StatusOK {
		t.Fatalf("import: status %d", code)
	}
	if len(out.Proposals) != 1 || len(out.NotPlaced) != 1 || out.NotPlaced[0].Code == "" || out.NotPlaced[0].Reason == "" {
		t.Fatalf("import answered %+v", out)
	}
}

// TestImportDocxRefusesBadInput: bad documents get bad_request and change
// nothing; a reviewer may not import.
func TestImportDocxRefusesBadInput(t *testing.T) {
	ls := startServer(t, storage.NewMemory(), server.Config{MaxDraftLen: 1000})
	ls.create("bad", "Text.")
	zipOf := func(parts ...string) []byte {
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		for i := 0; i < len(parts); i += 2 {
			w, _ := zw.Create(parts[i])
			w.Write([]byte(parts[i+1]))
		}
		zw.Close()
		return buf.Bytes()
	}
	rels := `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="r" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>`
	long, _ := docx.Write(docx.Document{Runs: []docx.Run{{Text: strings.Repeat("word ", 300)}}})
	bomb := zipOf("_rels/.rels", rels, "word/document.xml", `<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>`+strings.Repeat("a", 3<<20)+`</w:t></w:r></w:p></w:body></w:document>`)
	for name, body := range map[string][]byte{
		"not a zip":      []byte("plain text"),
		"not a docx":     zipOf("hello.txt", "hi"),
		"entities":       zipOf("_rels/.rels", rels, "word/document.xml", `<!DOCTYPE d [<!ENTITY a "aaaa">]><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"/>`),
		"zip bomb":       bomb,
		"over the limit": long,
	} {
		var e errView
		if code := ls.postBody(canada, "/api/docs/bad/import?rev=0", mediaDocx, body, &e); code != http.StatusBadRequest || e.Error.Code != "bad_request" {
			t.Errorf("%s: status %d %+v", name, code, e)
		}
	}
	var e errView
	good, _ := docx.Write(docx.Document{Runs: []docx.Run{{Text: "Text!"}}})
	if code := ls.postBody(observer, "/api/docs/bad/import?rev=0", mediaDocx, good, &e); code != http.StatusForbidden {
		t.Errorf("reviewer import: status %d", code)
	}
	if d := ls.get("bad"); d.Rev != 0 || d.Text != "Text." {
		t.Errorf("draft after refused imports: %+v", d)
	}
}

// validateAKN checks an export against the OASIS schema with xmllint.
func validateAKN(t *testing.T, data []byte) {
	t.Helper()
	const schema = "../../shared/standards/akomantoso30.xsd"
	if _, err := exec.LookPath("xmllint"); err != nil {
		testenv.MissingTool(t, "xmllint is not installed: apt-get install libxml2-utils")
	}
	if _, err := os.Stat(schema); err != nil {
		testenv.MissingTool(t, "no Akoma Ntoso schema at %s: %v", schema, err)
	}
	f := filepath.Join(t.TempDir(), "akn.xml")
	os.WriteFile(f, data, 0o644)
	if out, err := exec.Command("xmllint", "--noout", "--nonet", "--schema", schema, f).CombinedOutput(); err != nil {
		t.Fatalf("xmllint: %v\n%s\n%s", err, out, data)
	}
}

// TestAKNExportImport: the Akoma Ntoso export validates, carries the
// structure and the decisions, and imported as a new draft gives the same
// text, whose export gives it again.
func TestAKNExportImport(t *testing.T) {
	ls := startServer(t, storage.NewMemory(), server.Config{})
	text := "Draft convention\n\nChapter I General\nArticle 1 Scope\n1. The Parties [shall/should] cooperate.\n2. Observers [may] attend.\n\nArticle 2 bis Review\nText of [the/a] review & <others>.\nChapter II Final\nArticle 3\n1. Entry into force."
	ls.create("ak", text)
	var res struct{ Rev int }
	group := ls.listing("ak", 0).Groups[0].ID
	if code := ls.call(chair, "POST", "/api/docs/ak/brackets/"+group+"/resolve", map[string]any{"rev": 0, "choice": "choose", "index": 1, "note": "agreed"}, &res); code != http.StatusOK {
		t.Fatalf("resolve: status %d", code)
	}
	head := ls.get("ak").Text
	data := ls.export("/api/docs/ak/export?format=akn", "application/akn+xml")
	validateAKN(t, data)
	pv := ls.provisions("ak", -1)
	eid := func(prefix, kind, num string) string {
		return `<` + kind + ` eId="` + prefix + strings.ReplaceAll(pv.find(t, kind, num).ID, ".", "_") + `">`
	}
	for _, want := range []string{eid("art_", "article", "1"), eid("para_", "paragraph", "2"), eid("chp_", "chapter", "II"), eid("art_", "article", "2 bis"),
		`<num>Article 2 bis</num><heading>Review</heading>`, `<inline name="bracket">`, `<step date=`, `choice="choose"`} {
		if !strings.Contains(string(data), want) {
			t.Errorf("export lacks %s", want)
		}
	}
	d, err := akn.Import(data, 0)
	if err != nil || d.Text() != head {
		t.Fatalf("export reads back as %q (%v), want %q", d.Text(), err, head)
	}

	var created struct {
		ID    string
		Chars int
	}
	if code := ls.postBody(canada, "/api/docs/copy/import", "application/akn+xml", data, nil); code != http.StatusForbidden {
		t.Errorf("a drafter created a draft: status %d", code)
	}
	if code := ls.postBody(chair, "/api/docs/copy/import", "application/akn+xml", data, &created); code != http.StatusCreated || created.ID != "copy" {
		t.Fatalf("import as a new draft: status %d %+v", code, created)
	}
	if got := ls.get("copy"); got.Text != head || got.Title != "ak" {
		t.Fatalf("imported draft %+v, want the text %q", got, head)
	}
	again := ls.export("/api/docs/copy/export?format=akn", "application/akn+xml")
	if d, err := akn.Import(again, 0); err != nil || d.Text() != head {
		t.Fatalf("export → import → export reads %q (%v)", d.Text(), err)
	}
	var e errView
	if code := ls.postBody(chair, "/api/docs/copy/import", "application/akn+xml", data, &e); code != http.StatusConflict && e.Error.Code != "exists" {
		t.Errorf("import over an existing draft: status %d %+v", code, e)
	}
	if code := ls.postBody(chair, "/api/docs/other/import", "application/akn+xml", []byte(`<!DOCTYPE x [<!ENTITY a "b">]><x/>`), &e); code != http.StatusBadRequest {
		t.Errorf("entities: status %d", code)
	}
}

// TestImportDocxFixtures: the copies marked up by other software
// (docx/testdata/make-fixtures.sh) become one proposal per change.
func TestImportDocxFixtures(t *testing.T) {
	ls := startServer(t, storage.NewMemory(), server.Config{})
	for i, file := range []string{"../docx/testdata/libreoffice-tracked.docx", "../docx/testdata/npm-tracked.docx"} {
		doc := []string{"fx-lo", "fx-npm"}[i]
		ls.create(doc, "Article 1\n1. The Parties shall cooperate in good faith.\n2. Each Party may report.")
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var out importView
		if code := ls.postBody(canada, "/api/docs/"+doc+"/import?rev=0", mediaDocx, data, &out); code != http.StatusOK {
			t.Fatalf("%s: status %d", file, code)
		}
		if !out.Tracked || len(out.Proposals) != 3 || out.Proposals[0].WordAuthor != "Jean Dupont" {
			t.Fatalf("%s: %+v", file, out)
		}
		want := "Article 1\n1. The Parties [shall/should] cooperate[ in good faith].\n2. Each Party may report[ annually]."
		if got := ls.get(doc).Text; got != want {
			t.Errorf("%s: text %q, want %q", file, got, want)
		}
	}
}

// TestExportProvisions: the document exports read the structure with the
// provisions package (the ids and statuses of GET .../provisions): an
// article written "Article 17 bis", "Artículo 3", "Article 5" under a
// "Chapitre" or "المادة 4" is an article element in Akoma Ntoso and a
// heading in Word; subparagraphs are subparagraph elements; an agreed
// provision's status and decision record are in the AKN metadata and a
// Word comment on its heading.
func TestExportProvisions(t *testing.T) {
	ls := startServer(t, storage.NewMemory(), server.Config{Now: tickingClock()})
	text := "Projet de convention\n\nArticle 17 bis Scope\n1. The Parties shall:\n  (a) cooperate [fully/in good faith];\n  (b) report.\n2. Observers attend.\n" +
		"Artículo 3 Definiciones\nTexto.\nChapitre II Dispositions finales\nArticle 5 Entrée en vigueur\nTexte.\nالمادة 4 التعاريف\n1. تتعاون الأطراف"
	ls.create("pv", text)
	pv := ls.provisions("pv", -1)
	art := pv.find(t, "article", "17 bis")
	para := pv.find(t, "paragraph", "2")
	if code, _ := ls.setStatus(chair, "pv", para.ID, "agreed", "agreed in the informals", nil); code != http.StatusOK {
		t.Fatalf("agree %s: status %d", para.ID, code)
	}
	if code, _ := ls.setStatus(chair, "pv", art.ID, "informal", "", nil); code != http.StatusOK {
		t.Fatalf("informal %s: status %d", art.ID, code)
	}
	var res struct{ Rev int }
	group := ls.listing("pv", 2).Groups[0].ID
	if code := ls.call(chair, "POST", "/api/docs/pv/brackets/"+group+"/resolve", map[string]any{"rev": 2, "choice": "choose", "index": 1, "note": "per the chair"}, &res); code != http.StatusOK {
		t.Fatalf("resolve: status %d", code)
	}
	// Text typed before the decided text after the decision moves it.
	us := ls.wsAs(usa, "pv-usa")
	us.send(`{"type":"open","doc":"pv"}`)
	us.expect("snapshot")
	us.edit("pv", 3, 1, ot.Op{ot.Insert("Draft ")})
	head := ls.get("pv").Text

	data := ls.export("/api/docs/pv/export?format=akn", "application/akn+xml")
	validateAKN(t, data)
	eid := func(p provisionView) string { return strings.ReplaceAll(p.ID, ".", "_") }
	for _, want := range []string{
		`<article eId="art_` + eid(art) + `" dr:status="informal" dr:statusRev="2"><num>Article 17 bis</num><heading>Scope</heading>`,
		`<article eId="art_` + eid(pv.find(t, "article", "3")) + `"><num>Artículo 3</num><heading>Definiciones</heading>`,
		`<chapter eId="chp_` + eid(pv.find(t, "chapter", "II")) + `"><num>Chapitre II</num><heading>Dispositions finales</heading>`,
		`<article eId="art_` + eid(pv.find(t, "article", "5")) + `"><num>Article 5</num>`,
		`<article eId="art_` + eid(pv.find(t, "article", "4")) + `"><num>المادة 4</num><heading>التعاريف</heading>`,
		`<subparagraph eId="subpara_` + eid(pv.find(t, "subparagraph", "a")) + `"><num>  (a)</num><content><p>cooperate in good faith;</p></content></subparagraph>`,
		`<paragraph eId="para_` + eid(para) + `" dr:status="agreed" dr:statusRev="1"><num>2.</num>`,
		`group="` + para.ID + `" choice="agreed" kind="status" element="para_` + eid(para) + `" rev="1"`,
		`<dr:note>agreed in the informals</dr:note>`,
	} {
		if !strings.Contains(string(data), want) {
			t.Errorf("Akoma Ntoso export lacks\n%s", want)
		}
	}
	if d, err := akn.Import(data, 0); err != nil || d.Text() != head {
		t.Fatalf("export reads back as %q (%v), want %q", d.Text(), err, head)
	}

	plain := ls.export("/api/docs/pv/export?format=docx", mediaDocx)
	f, err := docx.Read(plain, docx.DefaultLimits)
	if err != nil || docx.Accepted(f.Runs) != head {
		t.Fatalf("docx reads as %q (%v)", docx.Accepted(f.Runs), err)
	}
	if got := officeOrSkip[string](t)(office.Text(t.TempDir(), plain)); got != head {
		t.Errorf("LibreOffice reads the export with its comments as\n%q\nwant\n%q", got, head)
	}
	body := zipPart(t, plain, "word/document.xml")
	for _, heading := range []string{"Article 17 bis Scope", "Artículo 3 Definiciones", "Chapitre II Dispositions finales", "المادة 4 التعاريف"} {
		i := strings.Index(body, heading)
		p := strings.LastIndex(body[:max(i, 0)], "<w:p>")
		if i < 0 || p < 0 || !strings.Contains(body[p:i], `<w:pStyle w:val="Heading`) {
			t.Errorf("%q is not a Word heading in document.xml", heading)
		}
	}
	if !strings.Contains(body, `<w:pStyle w:val="Heading2"/>`) {
		t.Errorf("Article 5 under Chapitre II is not Heading2")
	}
	c := zipPart(t, plain, "word/comments.xml")
	for _, want := range []string{"Paragraph 2 of article 17 bis: agreed ad referendum by", "Note: agreed in the informals", "Article 17 bis: under informal consultation",
		"Bracket group " + group + " decided (choose alternative 2)", "Result: “in good faith”", "Note: per the chair"} {
		if !strings.Contains(c, want) {
			t.Errorf("comments.xml lacks %q:\n%s", want, c)
		}
	}
	// The decision's comment is anchored to its result.
	if !regexp.MustCompile(`<w:commentRangeStart w:id="\d+"/><w:r>(<w:rPr>.*?</w:rPr>)?<w:t xml:space="preserve">in good faith</w:t></w:r><w:commentRangeEnd`).MatchString(body) {
		t.Errorf("no comment is anchored to the decided text “in good faith”:\n%s", body)
	}
	// The agreed paragraph's comment is anchored to its line.
	i := strings.Index(body, "2. Observers attend.")
	if s := strings.LastIndex(body[:max(i, 0)], "<w:commentRangeStart"); i < 0 || s < 0 || strings.Contains(body[s:i], "<w:commentRangeEnd") {
		t.Errorf("no comment opens on the agreed paragraph's line")
	}
}
