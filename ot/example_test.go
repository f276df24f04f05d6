package ot_test

import (
	"encoding/json"
	"fmt"

	"github.com/draftroom/draftroom/ot"
)

func ExampleApply() {
	var op ot.Op
	if err := json.Unmarshal([]byte(`[3, "abc", {"d": 2}]`), &op); err != nil {
		panic(err)
	}
	for _, draft := range []string{"hello world", "😭😭😭😭😭"} {
		out, err := ot.Apply(draft, op)
		fmt.Println(out, err)
	}
	// Output:
	// helabc world <nil>
	// 😭😭😭abc <nil>
}

func ExampleTransform() {
	// Two delegations insert at the same place on "Article 1".
	draft := "Article 1"
	a := ot.Op{ot.Skip(9), ot.Insert("7")}
	b := ot.Op{ot.Skip(9), ot.Insert("0")}
	// The server commits b first, then a transformed on side Left.
	a2, _ := ot.Transform(a, b, ot.Left)
	afterB, _ := ot.Apply(draft, b)
	server, _ := ot.Apply(afterB, a2)
	// The author of a applies b transformed on side Right.
	b2, _ := ot.Transform(b, a, ot.Right)
	afterA, _ := ot.Apply(draft, a)
	client, _ := ot.Apply(afterA, b2)
	fmt.Println(server, client)
	// Output:
	// Article 170 Article 170
}

func ExampleTransformSelection() {
	// A cursor and a selection on "the Parties shall", then "all " is
	// inserted at the start.
	op := ot.Op{ot.Insert("all ")}
	fmt.Println(ot.TransformSelection([2]int{4, 11}, op), ot.TransformPosition(0, op))
	// Output:
	// [8 15] 0
}

func ExampleFromDiff() {
	op := ot.FromDiff("The Parties shall 😭", "The Parties may 😭")
	b, _ := json.Marshal(op)
	fmt.Println(string(b))
	// Output:
	// [12,{"d":"shall"},"may"]
}
