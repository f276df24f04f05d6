package ot

import (
	"strings"
	"unicode/utf8"

	"github.com/sergi/go-diff/diffmatchpatch"
)

// FromDiff returns a normal op that turns old into new, computed with
// go-diff (Myers' algorithm, with a line-level pass first on long texts and
// go-diff's default one-second budget, after which the diff is still
// correct but may be less than minimal), then go-diff's semantic cleanup. Deletes are invertible {"d":"s"}.
// Counts are code points. Invalid UTF-8 in either text is first replaced by
// U+FFFD, so the op applies to strings.ToValidUTF8(old, "\uFFFD").
func FromDiff(old, new string) Op {
	old = strings.ToValidUTF8(old, "\uFFFD")
	new = strings.ToValidUTF8(new, "\uFFFD")
	if old == new {
		return Op{}
	}
	dmp := diffmatchpatch.New()
	// Semantic cleanup trades a minimal diff for one a person reads as the
	// edit made ("shall" -> "may", not "sh"->"m", "ll"->"y"): authorship
	// and history show these ops.
	diffs := dmp.DiffCleanupSemantic(dmp.DiffMain(old, new, true))
	out := appender{op: make(Op, 0, len(diffs))}
	for _, d := range diffs {
		if d.Text == "" {
			continue
		}
		switch d.Type {
		case diffmatchpatch.DiffEqual:
			out.add(Component{Skip: utf8.RuneCountInString(d.Text)})
		case diffmatchpatch.DiffInsert:
			out.add(Component{Insert: d.Text})
		case diffmatchpatch.DiffDelete:
			out.add(DeleteText(d.Text))
		}
	}
	return out.done()
}
