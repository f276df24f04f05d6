package ot

// TransformSpan moves the span [a, b) of a draft's text through op, which
// is assumed to pass Check: every character of the span that op keeps
// stays inside it and every other kept character outside. Text inserted at
// either end stays outside the span, text inserted inside it grows it; an
// empty span moves like a cursor (TransformPosition). A span whose text op
// deleted entirely becomes empty.
func TransformSpan(a, b int, op Op) (int, int) {
	if a == b {
		p := TransformPosition(a, op)
		return p, p
	}
	a = pushRight(a, op)
	b = TransformPosition(b, op)
	return a, max(a, b)
}

// pushRight is TransformPosition except that an insert at pos pushes it.
func pushRight(pos int, op Op) int { return movePosition(pos, op, true) }
