package history

import (
	"bytes"
	"compress/flate"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"

	"github.com/draftroom/draftroom/dr"
)

// MetaSection is the name under which the server persists an Authorship in
// a snapshot's Meta (dr.Snapshot.Meta[MetaSection]).
const MetaSection = "authorship"

// codecVersion is written in every encoded state; Unmarshal refuses others.
const codecVersion = 1

// wireState is the persisted form. Runs is base64 of the DEFLATE
// compression of, for each run in text order, three varints: its length
// (unsigned), its revision minus the previous run's revision (signed:
// neighbouring runs usually have close revisions), and its author index
// (unsigned). The varints are about 3 bytes a run and compress about ten
// times (the 104,852 runs of automerge-paper, one per keystroke: 320 kB
// of varints, 36 kB encoded), for about a millisecond of compression.
type wireState struct {
	Version int         `json:"v"`
	Rev     int         `json:"rev"`
	Len     int         `json:"len"`
	Authors []dr.Author `json:"authors"`
	Runs    string      `json:"runs"`
}

// MarshalJSON encodes the state compactly (see MetaSection). Adjacent runs
// of one writer are merged first, so the encoding of two Authorships with
// equal Spans is the same.
func (a *Authorship) MarshalJSON() ([]byte, error) {
	buf := make([]byte, 0, 4*a.root.countRuns())
	var last run
	have := false
	prevRev := 0
	flush := func() {
		buf = binary.AppendUvarint(buf, uint64(last.n))
		buf = binary.AppendVarint(buf, int64(last.rev-prevRev))
		buf = binary.AppendUvarint(buf, uint64(last.author))
		prevRev = last.rev
	}
	for leaf := range a.root.leaves {
		for _, r := range leaf.runs {
			if have && last.sameWriter(r) {
				last.n += r.n
				continue
			}
			if have {
				flush()
			}
			last, have = r, true
		}
	}
	if have {
		flush()
	}
	var z bytes.Buffer
	zw, err := flate.NewWriter(&z, flate.BestSpeed)
	if err != nil {
		return nil, fmt.Errorf("history: marshal authorship: %w", err)
	}
	if _, err := zw.Write(buf); err != nil {
		return nil, fmt.Errorf("history: marshal authorship: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("history: marshal authorship: %w", err)
	}
	return json.Marshal(wireState{
		Version: codecVersion,
		Rev:     a.rev,
		Len:     a.Len(),
		Authors: a.authors,
		Runs:    base64.StdEncoding.EncodeToString(z.Bytes()),
	})
}

// Marshal is MarshalJSON under the name the server calls.
func (a *Authorship) Marshal() ([]byte, error) { return a.MarshalJSON() }

// Unmarshal decodes a state written by Marshal. Anything that does not
// decode, or whose runs do not add up to its length, returns an error
// wrapping ErrCorrupt.
func Unmarshal(data []byte) (*Authorship, error) {
	a := new(Authorship)
	if err := a.UnmarshalJSON(data); err != nil {
		return nil, err
	}
	return a, nil
}

// UnmarshalJSON replaces a's state with the decoded one; on error a is
// unchanged. Errors wrap ErrCorrupt.
func (a *Authorship) UnmarshalJSON(data []byte) error {
	var w wireState
	if err := json.Unmarshal(data, &w); err != nil {
		return fmt.Errorf("decode: %w: %v", ErrCorrupt, err)
	}
	if w.Rev < 0 {
		return fmt.Errorf("revision %d: %w", w.Rev, ErrCorrupt)
	}
	if w.Version != codecVersion {
		return fmt.Errorf("version %d: %w", w.Version, ErrCorrupt)
	}
	if len(w.Authors) == 0 || w.Authors[0] != (dr.Author{}) {
		return fmt.Errorf("author 0 is not the initial text: %w", ErrCorrupt)
	}
	index := make(map[dr.Author]int, len(w.Authors))
	for i, au := range w.Authors {
		if _, dup := index[au]; dup {
			return fmt.Errorf("author %d repeated: %w", i, ErrCorrupt)
		}
		index[au] = i
	}
	if w.Len < 0 {
		return fmt.Errorf("length %d: %w", w.Len, ErrCorrupt)
	}
	z, err := base64.StdEncoding.DecodeString(w.Runs)
	if err != nil {
		return fmt.Errorf("runs: %w: %v", ErrCorrupt, err)
	}
	// A run covers at least one code point and encodes in at most 30
	// bytes: anything longer is not a state of this length (and the limit
	// keeps a crafted input from inflating without bound).
	limit := int64(w.Len)*30 + 64
	raw, err := io.ReadAll(io.LimitReader(flate.NewReader(bytes.NewReader(z)), limit+1))
	if err != nil {
		return fmt.Errorf("runs: %w: %v", ErrCorrupt, err)
	}
	if int64(len(raw)) > limit {
		return fmt.Errorf("runs longer than a state of %d code points: %w", w.Len, ErrCorrupt)
	}
	runs := make([]run, 0, len(raw)/3) // a run takes at least 3 bytes
	total, rev := 0, 0
	for len(raw) > 0 {
		n, k1 := binary.Uvarint(raw)
		if k1 <= 0 {
			return fmt.Errorf("run %d length: %w", len(runs), ErrCorrupt)
		}
		d, k2 := binary.Varint(raw[k1:])
		if k2 <= 0 {
			return fmt.Errorf("run %d revision: %w", len(runs), ErrCorrupt)
		}
		au, k3 := binary.Uvarint(raw[k1+k2:])
		if k3 <= 0 {
			return fmt.Errorf("run %d author: %w", len(runs), ErrCorrupt)
		}
		raw = raw[k1+k2+k3:]
		rev += int(d)
		const maxLen = 1 << 40 // far beyond any draft; keeps the sums from overflowing
		if n == 0 || n > maxLen || rev < 0 || au >= uint64(len(w.Authors)) {
			return fmt.Errorf("run %d (n %d, rev %d, author %d): %w", len(runs), n, rev, au, ErrCorrupt)
		}
		total += int(n)
		if total > w.Len {
			return fmt.Errorf("runs longer than len %d: %w", w.Len, ErrCorrupt)
		}
		runs = append(runs, run{n: int(n), rev: rev, author: int(au)})
	}
	if total != w.Len {
		return fmt.Errorf("runs add up to %d, len is %d: %w", total, w.Len, ErrCorrupt)
	}
	a.rev = w.Rev
	a.root = build(runs)
	a.authors = w.Authors
	a.index = index
	return nil
}

// build bulk-loads runs into a tree whose nodes are three-quarters full,
// so that both inserts and deletes have room before the first split or
// merge.
func build(runs []run) *node {
	const perLeaf, perInner = maxRuns * 3 / 4, maxChildren * 3 / 4
	var level []*node
	for len(runs) > 0 {
		k := min(perLeaf, len(runs))
		leaf := &node{leaf: true, runs: make([]run, k, maxRuns+1)}
		copy(leaf.runs, runs[:k])
		for _, r := range leaf.runs {
			leaf.length += r.n
		}
		level = append(level, leaf)
		runs = runs[k:]
	}
	if len(level) == 0 {
		return &node{leaf: true}
	}
	for len(level) > 1 {
		var up []*node
		for len(level) > 0 {
			k := min(perInner, len(level))
			in := &node{children: make([]*node, k, maxChildren+1)}
			copy(in.children, level[:k])
			for _, c := range in.children {
				in.length += c.length
			}
			up = append(up, in)
			level = level[k:]
		}
		level = up
	}
	return level[0]
}
