// gen.js writes ../reference.json: random cases with the results the npm
// package ot-text-unicode (4.0.0, pinned in package-lock.json) gives for
// apply, makeInvertible/invert, transform (both sides), compose, normalize
// and transformPosition. reference_test.go checks the Go package against
// every case. Deterministic: the same seed gives the same file.
//
//   cd ot/testdata/gen && npm ci && node gen.js [seed [output file]]
'use strict'

const fs = require('fs')
const path = require('path')
const { type } = require('ot-text-unicode')

const SEED = Number(process.argv[2] || 20261123)

// mulberry32: a small seeded PRNG, so the output does not depend on Node's
// Math.random.
function rng (seed) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6D2B79F5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
const rand = rng(SEED)
const int = n => Math.floor(rand() * n) // 0..n-1
const pick = xs => xs[int(xs.length)]

// Pieces of text in many scripts. Several are more than one code point
// (combining marks, ZWJ sequences, flags, skin tones), so ops split them.
const pieces = [
  'a', 'b', 'c', 'x', 'T', ' ', ' ', '\n', ',', '.', '[', ']', '/', '"', '\\', '\t',
  'é', 'ü', 'ñ', 'ç', 'Å', 'e\u0301', 'a\u0308', 'n\u0303', 'o\u0302\u0323',
  'ж', 'Щ', 'я', 'Ё', 'ы',
  'ب', 'ي', 'ع', 'ة', 'لا', '\u064b',
  '中', '文', '条', '约', '国',
  '😭', '😀', '👍🏽', '👩\u200d💻', '👨\u200d👩\u200d👧', '🏳\ufe0f\u200d🌈', '🇫🇷', '🇨🇦', '🇯🇵',
  '\u00a0', '\u2028', '\u200b', '𝔸', '\u0000', '\u007f'
]
const phrases = [
  'shall', 'the Parties', 'Article 17', 'привет', 'مرحبا', '条约', 'café', 'naïve',
  '👩\u200d💻 and 🇫🇷', '[option A/option B]'
]

function randText (maxPieces) {
  let s = ''
  const n = int(maxPieces + 1)
  for (let i = 0; i < n; i++) s += rand() < 0.1 ? pick(phrases) : pick(pieces)
  return s
}
const nonEmptyText = max => { let s; do s = randText(max); while (s === ''); return s }
const cps = s => Array.from(s) // code points
const cpLen = s => cps(s).length

// randOp returns a random op for doc. normal=true gives a normal op (see
// type.normalize); otherwise anything in the four
// forms, with adjacent components of one kind and trailing skips.
function randOp (doc, normal) {
  const d = cps(doc)
  const op = []
  let pos = 0
  const steps = 1 + int(5)
  for (let i = 0; i < steps; i++) {
    const left = d.length - pos
    const r = rand()
    if (r < 0.3 && left > 0) {
      const n = 1 + int(Math.min(left, 1 + int(12)))
      op.push(n)
      pos += n
    } else if (r < 0.6) {
      op.push(nonEmptyText(4))
    } else if (left > 0) {
      const n = 1 + int(Math.min(left, 1 + int(6)))
      op.push(rand() < 0.5 ? { d: n } : { d: d.slice(pos, pos + n).join('') })
      pos += n
    }
  }
  if (!normal) {
    if (rand() < 0.3 && d.length > pos) op.push(1 + int(d.length - pos))
    return op
  }
  // Normal form: ot-text-unicode's checkOp also accepts adjacent inserts,
  // but transform then treats them apart and two concurrent ops can fail to
  // converge (e.g. [1,"a","b"] against ["c",1,"d"] on "x"); the Go package
  // merges them first, which equals the reference on normal ops.
  const out = type.normalize(op)
  type.checkOp(out)
  return out
}

// insertAt returns an op inserting text at code point pos (plus, sometimes,
// a delete after it), to make same-position inserts common.
function insertAt (doc, pos) {
  const op = []
  if (pos > 0) op.push(pos)
  op.push(nonEmptyText(3))
  const left = cpLen(doc) - pos
  if (left > 0 && rand() < 0.3) op.push({ d: 1 + int(Math.min(left, 3)) })
  return op
}

const randDoc = () => rand() < 0.05 ? '' : (rand() < 0.15 ? randText(60) : randText(16))

const clone = x => JSON.parse(JSON.stringify(x))

const out = {
  generator: 'ot-text-unicode 4.0.0 (ot/testdata/gen/gen.js)',
  seed: SEED,
  apply: [],
  transform: [],
  compose: [],
  normalize: []
}

// apply, makeInvertible + invert, transformPosition.
for (let i = 0; i < 2000; i++) {
  const doc = randDoc()
  const op = randOp(doc, true)
  const result = type.apply(doc, clone(op))
  const invertible = type.makeInvertible(clone(op), doc)
  const inverse = type.invert(clone(invertible))
  if (type.apply(result, clone(inverse)) !== doc) throw Error('reference inverse does not undo')
  const positions = []
  for (let p = 0; p <= cpLen(doc) + 1; p++) {
    if (cpLen(doc) < 20 || rand() < 0.25) positions.push([p, type.transformPosition(p, clone(op))])
  }
  out.apply.push({ doc, op, result, invertible, inverse, positions })
}

// transform: a and b made on one draft; both sides each way.
for (let i = 0; i < 3000; i++) {
  const doc = randDoc()
  let a, b
  const r = rand()
  if (r < 0.25) {
    // Same-position inserts.
    const pos = int(cpLen(doc) + 1)
    a = insertAt(doc, pos)
    b = insertAt(doc, pos)
  } else if (r < 0.35) {
    // Both delete overlapping text, one with its text.
    const n = cpLen(doc)
    if (n === 0) { i--; continue }
    const p1 = int(n); const p2 = int(n)
    const l1 = 1 + int(n - p1); const l2 = 1 + int(n - p2)
    a = (p1 ? [p1] : []).concat([{ d: cps(doc).slice(p1, p1 + l1).join('') }])
    b = (p2 ? [p2] : []).concat([{ d: l2 }], rand() < 0.5 ? [nonEmptyText(2)] : [])
  } else {
    a = randOp(doc, true)
    b = randOp(doc, true)
  }
  const aLeft = type.transform(clone(a), clone(b), 'left')
  const aRight = type.transform(clone(a), clone(b), 'right')
  const bLeft = type.transform(clone(b), clone(a), 'left')
  const bRight = type.transform(clone(b), clone(a), 'right')
  // The reference converges; check it before we rely on it.
  const x = type.apply(type.apply(doc, clone(a)), clone(bRight))
  const y = type.apply(type.apply(doc, clone(b)), clone(aLeft))
  if (x !== y) throw Error('reference does not converge: ' + JSON.stringify({ doc, a, b, aLeft, bRight, x, y }))
  out.transform.push({ doc, a, b, aLeft, aRight, bLeft, bRight, result: x })
}

// compose: b made on the draft a produces.
for (let i = 0; i < 2000; i++) {
  const doc = randDoc()
  const a = randOp(doc, true)
  const mid = type.apply(doc, clone(a))
  const b = randOp(mid, true)
  const result = type.compose(clone(a), clone(b))
  const end = type.apply(mid, clone(b))
  if (type.apply(doc, clone(result)) !== end) throw Error('reference compose differs from sequential apply')
  out.compose.push({ doc, a, b, result, end })
}

// normalize: ops with adjacent components of one kind, trailing skips and
// empty inserts.
for (let i = 0; i < 1000; i++) {
  const doc = randDoc()
  const op = []
  for (const c of randOp(doc, false)) {
    op.push(c)
    if (rand() < 0.3) {
      // Split the component in two of the same kind, or add an empty insert.
      const last = op.pop()
      if (typeof last === 'number' && last > 1) { const k = 1 + int(last - 1); op.push(k, last - k) } else if (typeof last === 'string' && cpLen(last) > 1) {
        const k = 1 + int(cpLen(last) - 1); op.push(cps(last).slice(0, k).join(''), cps(last).slice(k).join(''))
      } else if (typeof last === 'object' && typeof last.d === 'string' && cpLen(last.d) > 1) {
        const k = 1 + int(cpLen(last.d) - 1)
        op.push({ d: cps(last.d).slice(0, k).join('') }, rand() < 0.5 ? { d: cps(last.d).slice(k).join('') } : { d: cpLen(last.d) - k })
      } else { op.push(last, '') }
    }
  }
  const result = type.normalize(clone(op))
  out.normalize.push({ doc, op, result, applied: type.apply(doc, clone(result)) })
}

const file = process.argv[3] || path.join(__dirname, '..', 'reference.json')
fs.writeFileSync(file, JSON.stringify(out) + '\n')
console.log(`wrote ${file}: ${out.apply.length} apply, ${out.transform.length} transform, ${out.compose.length} compose, ${out.normalize.length} normalize cases (seed ${SEED})`)
