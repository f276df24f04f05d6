// Paragraph direction, as HTML's dir="auto" decides it: from the first
// strongly directional character. Arabic, Hebrew and the other right-to-left
// scripts give "rtl"; any other letter gives "ltr"; a paragraph without a
// letter (digits, punctuation, brackets only) has no direction of its own.

// Letters of the right-to-left scripts (Bidi_Class R and AL): Hebrew,
// Arabic, Syriac, Thaana, NKo, Samaritan, Mandaic, Arabic Extended and the
// presentation forms, plus the RTL blocks beyond the BMP.
const RTL = /[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff]|[\u{10800}-\u{10fff}\u{1e800}-\u{1efff}]/u;
const STRONG = /[\p{L}\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff]/u;
const STRONG_G = /[\p{L}\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff]/gu;

/** directionOf returns "rtl", "ltr" or "" (no strong character) for text. */
export function directionOf(text) {
  STRONG_G.lastIndex = 0;
  const m = STRONG_G.exec(text);
  if (!m) return '';
  return RTL.test(m[0]) ? 'rtl' : 'ltr';
}

/** isStrong says whether the one-character string c is strongly directional. */
export function isStrong(c) { return STRONG.test(c); }
