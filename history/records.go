package history

// The timeline joined with what was recorded beside the op log: the
// proposal of a propose entry, the decision of a resolution, status change
// or package, and the labels (named versions) of the revisions an entry
// covers (docs/PROTOCOL.md 2.3, GET /api/docs/{id}/history).

import (
	"context"
	"fmt"

	"github.com/draftroom/draftroom/dr"
	"github.com/draftroom/draftroom/provisions"
)

// RecordReader is the part of a store that keeps the records of a draft
// beside its op log; every storage backend has it.
type RecordReader interface {
	Proposals(ctx context.Context, id string) ([]dr.Proposal, error)
	Decisions(ctx context.Context, id string) ([]dr.Decision, error)
	Labels(ctx context.Context, id string) ([]dr.Label, error)
}

// Recorded is a timeline entry with what was recorded with it: the
// proposal of a propose entry, the decision of a resolve, status or package
// entry, and the labels of the revisions From..To.
type Recorded struct {
	Entry
	Proposal *dr.Proposal
	Decision *dr.Decision
	Labels   []dr.Label
}

// RecordedPage is Page joined with the records of draft doc (Join): the
// proposals and decisions are read only when the page holds an entry that
// has one, the labels when the page is not empty.
// Errors from load or rec are returned wrapped.
func RecordedPage(ctx context.Context, load Loader, rec RecordReader, doc string, head, before, limit int) ([]Recorded, int, error) {
	entries, next, err := Page(ctx, load, head, before, limit, DefaultWindow)
	if err != nil {
		return nil, 0, fmt.Errorf("timeline %s: %w", doc, err)
	}
	if len(entries) == 0 {
		return Join(entries, nil, nil, nil), next, nil
	}
	var (
		props []dr.Proposal
		decs  []dr.Decision
	)
	if hasRecords(entries) {
		if props, err = rec.Proposals(ctx, doc); err != nil {
			return nil, 0, fmt.Errorf("timeline %s: %w", doc, err)
		}
		if decs, err = rec.Decisions(ctx, doc); err != nil {
			return nil, 0, fmt.Errorf("timeline %s: %w", doc, err)
		}
	}
	labels, err := rec.Labels(ctx, doc)
	if err != nil {
		return nil, 0, fmt.Errorf("timeline %s: %w", doc, err)
	}
	return Join(entries, props, decs, labels), next, nil
}

// hasRecords reports whether any of entries has a proposal or a decision.
func hasRecords(entries []Entry) bool {
	for _, e := range entries {
		if e.Kind == dr.KindPropose || decides(e.Kind) {
			return true
		}
	}
	return false
}

// decides reports whether an op of that kind is committed with a decision
// record: a bracket resolution, a provision's status change, a package.
func decides(kind string) bool {
	_, status := provisions.StatusOfKind(kind)
	return kind == dr.KindResolve || kind == provisions.KindPackage || status
}

// Join pairs each entry with its records: a propose entry with the
// proposal committed at its first revision, an entry that decides (see
// decides) with the decision committed at its first revision, and each
// label with the entry whose revisions hold it. Records of revisions no
// entry covers are left out.
func Join(entries []Entry, props []dr.Proposal, decs []dr.Decision, labels []dr.Label) []Recorded {
	out := make([]Recorded, len(entries))
	for i, e := range entries {
		out[i].Entry = e
		switch {
		case e.Kind == dr.KindPropose:
			out[i].Proposal = proposalAt(props, e.From)
		case decides(e.Kind):
			out[i].Decision = decisionAt(decs, e.From)
		}
	}
	for _, l := range labels {
		for i := range out {
			if l.Rev >= out[i].From && l.Rev <= out[i].To {
				out[i].Labels = append(out[i].Labels, l)
				break
			}
		}
	}
	return out
}

// proposalAt returns the first of props committed at rev, or nil.
func proposalAt(props []dr.Proposal, rev int) *dr.Proposal {
	for k := range props {
		if props[k].Rev == rev {
			return &props[k]
		}
	}
	return nil
}

// decisionAt returns a copy of the first of decs committed at rev, or nil.
func decisionAt(decs []dr.Decision, rev int) *dr.Decision {
	for _, d := range decs {
		if d.Rev == rev {
			return &d
		}
	}
	return nil
}
