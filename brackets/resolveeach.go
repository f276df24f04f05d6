package brackets

import (
	"errors"
	"fmt"
	"slices"

	"github.com/draftroom/draftroom/ot"
)

// ErrNested: groups resolved together (ResolveEach) where one holds
// another; resolving the outer one would change the inner one's text.
var ErrNested = errors.New("brackets: groups nested in each other")

// A GroupError is why one group of several (ResolveEach) could not be
// resolved; it wraps Resolve's error.
type GroupError struct {
	Group string // the group's id
	Err   error
}

func (e *GroupError) Error() string { return "group " + e.Group + ": " + e.Err.Error() }
func (e *GroupError) Unwrap() error { return e.Err }

// Resolved is one group's part of ResolveEach: the group's index in the
// Result and its Change (built on the text as the groups after it, in
// reading order, left it).
type Resolved struct {
	Group int
	Change
}

// ResolveEach applies one resolution to each of the groups gs (indexes of
// r.Groups) in a single op, changing the groups from the last in the text
// to the first so that each change leaves the positions of the earlier
// ones as they were. It returns the op and the groups' changes in the
// order applied (last group first). Errors: ErrNested when one group
// holds another, a *GroupError wrapping Resolve's error for a group that
// does not take the resolution.
func (r Result) ResolveEach(gs []int, res Resolution) (ot.Op, []Resolved, error) {
	order := slices.Clone(gs)
	slices.SortFunc(order, func(a, b int) int { return r.Groups[b].Start - r.Groups[a].Start })
	var (
		all  ot.Op
		done = make([]Resolved, 0, len(order))
		end  = -1 // start of the group resolved before (further on in the text)
	)
	for _, gi := range order {
		g := &r.Groups[gi]
		if end >= 0 && g.End > end {
			return nil, nil, fmt.Errorf("%s and the group after it: %w", g.ID, ErrNested)
		}
		end = g.Start
		ch, err := r.Resolve(gi, res)
		if err != nil {
			return nil, nil, &GroupError{Group: g.ID, Err: err}
		}
		if all == nil {
			all = ch.Op
		} else if all, err = ot.Compose(all, ch.Op); err != nil {
			return nil, nil, fmt.Errorf("resolve %s: compose: %w", g.ID, err)
		}
		done = append(done, Resolved{Group: gi, Change: ch})
	}
	return all, done, nil
}
