// Writes ../npm-tracked.docx with the docx npm package (an independent
// writer of WordprocessingML tracked changes), for docx/fixtures_test.go.
// Run: cd docx/testdata/npm && npm ci && npm run make
//
// Original text:  "Article 1\n1. The Parties shall cooperate in good faith.\n2. Each Party may report."
// Accepted text:  "Article 1\n1. The Parties should cooperate.\n2. Each Party may report annually."
import { writeFileSync } from "node:fs";
import { Document, Packer, Paragraph, TextRun, InsertedTextRun, DeletedTextRun, HeadingLevel } from "docx";

const date = "2026-11-20T10:00:00Z";
const doc = new Document({
  creator: "docx npm fixture",
  title: "Draft convention",
  sections: [{
    children: [
      new Paragraph({ heading: HeadingLevel.HEADING_2, children: [new TextRun("Article 1")] }),
      new Paragraph({
        children: [
          new TextRun("1. The Parties "),
          new DeletedTextRun({ text: "shall", id: 1, author: "Jean Dupont", date }),
          new InsertedTextRun({ text: "should", id: 2, author: "Jean Dupont", date }),
          new TextRun(" cooperate"),
          new DeletedTextRun({ text: " in good faith", id: 3, author: "Ana Silva", date }),
          new TextRun("."),
        ],
      }),
      new Paragraph({
        children: [
          new TextRun("2. Each Party may report"),
          new InsertedTextRun({ text: " annually", id: 4, author: "Jean Dupont", date }),
          new TextRun("."),
        ],
      }),
    ],
  }],
});
writeFileSync(new URL("../npm-tracked.docx", import.meta.url), await Packer.toBuffer(doc));
