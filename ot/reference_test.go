package ot

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"sync"
	"testing"
)

// reference holds the cases testdata/gen/gen.js wrote with the npm package
// ot-text-unicode 4.0.0 (regenerate: cd ot/testdata/gen && npm ci && node
// gen.js). Ops are in their JSON form and decode with Op.UnmarshalJSON.
type reference struct {
	Generator string `json:"generator"`
	Seed      int    `json:"seed"`
	Apply     []struct {
		Doc        string   `json:"doc"`
		Op         Op       `json:"op"`
		Result     string   `json:"result"`
		Invertible Op       `json:"invertible"`
		Inverse    Op       `json:"inverse"`
		Positions  [][2]int `json:"positions"`
	} `json:"apply"`
	Transform []struct {
		Doc    string `json:"doc"`
		A      Op     `json:"a"`
		B      Op     `json:"b"`
		ALeft  Op     `json:"aLeft"`
		ARight Op     `json:"aRight"`
		BLeft  Op     `json:"bLeft"`
		BRight Op     `json:"bRight"`
		Result string `json:"result"`
	} `json:"transform"`
	Compose []struct {
		Doc    string `json:"doc"`
		A      Op     `json:"a"`
		B      Op     `json:"b"`
		Result Op     `json:"result"`
		End    string `json:"end"`
	} `json:"compose"`
	Normalize []struct {
		Doc     string `json:"doc"`
		Op      Op     `json:"op"`
		Result  Op     `json:"result"`
		Applied string `json:"applied"`
	} `json:"normalize"`
}

var (
	refOnce sync.Once
	refData *reference
	refErr  error
)

// loadReference decodes testdata/reference.json once for all the tests.
func loadReference(t *testing.T) *reference {
	t.Helper()
	refOnce.Do(func() {
		data, err := os.ReadFile("testdata/reference.json")
		if err != nil {
			refErr = err
			return
		}
		var ref reference
		if err := json.Unmarshal(data, &ref); err != nil {
			refErr = err
			return
		}
		if len(ref.Apply) == 0 || len(ref.Transform) == 0 || len(ref.Compose) == 0 || len(ref.Normalize) == 0 {
			refErr = errors.New("reference file has an empty section")
			return
		}
		refData = &ref
	})
	if refErr != nil {
		t.Fatalf("load the reference cases: %v", refErr)
	}
	return refData
}

// TestReferenceIsFresh regenerates the cases with the pinned npm package
// and checks that the committed file is what gen.js writes now.
func TestReferenceIsFresh(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed; the committed reference cases are used as they are")
	}
	if _, err := os.Stat("testdata/gen/node_modules/ot-text-unicode/package.json"); err != nil {
		t.Skip("ot-text-unicode is not installed (cd ot/testdata/gen && npm ci); the committed reference cases are used as they are")
	}
	ref := loadReference(t)
	out := filepath.Join(t.TempDir(), "reference.json")
	cmd := exec.Command(node, "gen.js", strconv.Itoa(ref.Seed), out)
	cmd.Dir = "testdata/gen"
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("node gen.js: %v\n%s", err, msg)
	}
	fresh, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	committed, err := os.ReadFile("testdata/reference.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(fresh, committed) {
		t.Fatalf("testdata/reference.json differs from what gen.js writes now (%d vs %d bytes): regenerate it", len(committed), len(fresh))
	}
}

func sameOp(a, b Op) bool {
	return len(a) == 0 && len(b) == 0 || reflect.DeepEqual(a, b)
}

func TestReferenceApply(t *testing.T) {
	ref := loadReference(t)
	for i, c := range ref.Apply {
		got, err := Apply(c.Doc, c.Op)
		if err != nil || got != c.Result {
			t.Errorf("apply %d: Apply(%q, %v) = %q, %v; want %q", i, c.Doc, c.Op, got, err, c.Result)
			continue
		}
		text := NewText(c.Doc)
		inv, err := text.Apply(c.Op)
		if err != nil || text.String() != c.Result {
			t.Errorf("apply %d: Text.Apply(%v) on %q = %q, %v; want %q", i, c.Op, c.Doc, text.String(), err, c.Result)
			continue
		}
		if !sameOp(inv, c.Inverse) {
			t.Errorf("apply %d: Text.Apply(%v) on %q returned inverse %v; want %v", i, c.Op, c.Doc, inv, c.Inverse)
		}
		mi, err := MakeInvertible(c.Doc, c.Op)
		if err != nil || !sameOp(mi, c.Invertible) {
			t.Errorf("apply %d: MakeInvertible(%q, %v) = %v, %v; want %v", i, c.Doc, c.Op, mi, err, c.Invertible)
			continue
		}
		if ii, err := Invert(mi); err != nil || !sameOp(ii, c.Inverse) {
			t.Errorf("apply %d: Invert(%v) = %v, %v; want %v", i, mi, ii, err, c.Inverse)
		}
		for _, p := range c.Positions {
			if got := TransformPosition(p[0], c.Op); got != p[1] {
				t.Errorf("apply %d: TransformPosition(%d, %v) = %d, want %d", i, p[0], c.Op, got, p[1])
			}
		}
	}
}

func TestReferenceTransform(t *testing.T) {
	ref := loadReference(t)
	for i, c := range ref.Transform {
		for _, tc := range []struct {
			op, other Op
			side      Side
			want      Op
		}{
			{c.A, c.B, Left, c.ALeft},
			{c.A, c.B, Right, c.ARight},
			{c.B, c.A, Left, c.BLeft},
			{c.B, c.A, Right, c.BRight},
		} {
			got, err := Transform(tc.op, tc.other, tc.side)
			if err != nil || !sameOp(got, tc.want) {
				t.Errorf("transform %d: Transform(%v, %v, %v) = %v, %v; want %v", i, tc.op, tc.other, tc.side, got, err, tc.want)
			}
		}
		afterA, err1 := Apply(c.Doc, c.A)
		x, err2 := Apply(afterA, c.BRight)
		if err1 != nil || err2 != nil || x != c.Result {
			t.Errorf("transform %d: a then b' gives %q (%v, %v), want %q", i, x, err1, err2, c.Result)
		}
	}
}

func TestReferenceCompose(t *testing.T) {
	ref := loadReference(t)
	for i, c := range ref.Compose {
		got, err := Compose(c.A, c.B)
		if err != nil || !sameOp(got, c.Result) {
			t.Errorf("compose %d: Compose(%v, %v) = %v, %v; want %v", i, c.A, c.B, got, err, c.Result)
			continue
		}
		if end, err := Apply(c.Doc, got); err != nil || end != c.End {
			t.Errorf("compose %d: composed op gives %q, %v; want %q", i, end, err, c.End)
		}
	}
}

func TestReferenceNormalize(t *testing.T) {
	ref := loadReference(t)
	for i, c := range ref.Normalize {
		got := Normalize(c.Op)
		if !sameOp(got, c.Result) {
			t.Errorf("normalize %d: Normalize(%v) = %v; want %v", i, c.Op, got, c.Result)
		}
		// The original op must have the same effect as its normal form.
		if a, err := Apply(c.Doc, c.Op); err != nil || a != c.Applied {
			t.Errorf("normalize %d: Apply(%q, %v) = %q, %v; want %q", i, c.Doc, c.Op, a, err, c.Applied)
		}
	}
}
