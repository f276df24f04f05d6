// placeOf names where a line of a draft stands the way delegates cite it:
// "Article 2, paragraph 3 (b)", "Article 4, paragraph 2 bis", "Chapter III",
// from the headings and numbers above it (docs/PROVISIONS.md's grammar,
// simplified: the outline panel has the server's exact reading). A bracket
// card or a notice that said "Paragraph 1" was ambiguous in a chapter where
// every article has a paragraph 1.

const SUFFIX = '(?:[ \u00a0]*(?:bis|ter|quater|quinquies|sexies|septies|octies|novies|decies))?';
// A heading's number ends the line, or a separator or a title follows it
// ("Article 17 of the Convention shall apply" is a sentence).
const TAIL = '(?=\\s*$|\\s*[.:\\-–—]|\\s+[^\\sa-z0-9(,;])';
const ARTICLE = new RegExp(`^\\s*(?:Article|ARTICLE|Artículo|ARTÍCULO|Статья|СТАТЬЯ)\\s+(\\d{1,4}${SUFFIX}|premier|1er)${TAIL}`);
const ARTICLE_ZH = /^\s*(第[0-9一二三四五六七八九十百千〇零两]+条)/;
const ARTICLE_AR = /^\s*المادة\s+([0-9٠-٩]{1,4})/;
const HIGHER = new RegExp(`^\\s*(Part|PART|Chapter|CHAPTER|Section|SECTION|Annex|ANNEX)\\s+([0-9]{1,4}${SUFFIX}|[IVXLC]{1,8}${SUFFIX}|One|Two|Three|Four|Five|Six|Seven|Eight|Nine|Ten|Eleven|Twelve|ONE|TWO|THREE|FOUR|FIVE|SIX)${TAIL}`);
const PARAGRAPH = new RegExp(`^\\s*(\\d{1,4}${SUFFIX})\\.(?:\\s|$)`);
const SUBPARAGRAPH = new RegExp(`^\\s*\\(([a-z]{1,4}${SUFFIX})\\)(?:\\s|$)`);
const PREAMBULAR = /^\s*PP\s?(\d{1,4})\.?(?:\s|$)/;

// SCAN_MAX bounds the lines looked at above a line (a heading further up
// than that is not worth the time of drawing a card).
const SCAN_MAX = 400;

/**
 * placeOf(lineText, n): lineText(i) is the text of line i (1-based), n the
 * line to name. It returns '' when nothing above the line names it (a text
 * without numbers or headings).
 */
export function placeOf(lineText, n) {
  let sub = '';
  let para = '';
  for (let i = n; i >= 1 && i > n - SCAN_MAX; i--) {
    const t = lineText(i);
    let m;
    if ((m = ARTICLE.exec(t))) return join(`Article ${norm(m[1])}`, para, sub);
    if ((m = ARTICLE_ZH.exec(t)) || (m = ARTICLE_AR.exec(t))) return join(m[0].trim().startsWith('第') ? m[1] : `Article ${m[1]}`, para, sub);
    if ((m = HIGHER.exec(t))) {
      const head = `${cap(m[1])} ${norm(m[2])}`;
      return para ? join(head, para, sub) : head;
    }
    if (!para && (m = PREAMBULAR.exec(t))) return `Preambular paragraph ${m[1]}`;
    if (!para && (m = PARAGRAPH.exec(t))) para = norm(m[1]);
    else if (!para && !sub && (m = SUBPARAGRAPH.exec(t))) sub = norm(m[1]);
  }
  if (para) return `Paragraph ${para}${sub ? ` (${sub})` : ''}`;
  return '';
}

function join(head, para, sub) {
  if (!para) return sub ? `${head} (${sub})` : head;
  return `${head}, paragraph ${para}${sub ? ` (${sub})` : ''}`;
}

function norm(s) { return s.replace(/[ \u00a0]+/g, ' '); }
function cap(s) { return s[0].toUpperCase() + s.slice(1).toLowerCase(); }
