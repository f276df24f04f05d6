package provisions

import (
	"errors"
	"slices"
	"testing"
)

func TestTogether(t *testing.T) {
	item := func(id string, kind Kind, num string, parent int, st Status) Listed {
		return Listed{Provision: Provision{ID: id, Kind: kind, Num: num, Parent: parent}, Status: st}
	}
	list := []Listed{
		item("p0.0", Article, "1", -1, Open),      // 0
		item("p0.10", Paragraph, "1", 0, Open),    // 1
		item("p0.20", Article, "2", -1, Agreed),   // 2
		item("p0.30", Paragraph, "1", 2, Agreed),  // 3: agreed through article 2
		item("p0.40", Article, "3", -1, Informal), // 4
	}
	tests := []struct {
		name     string
		i        int
		partners []string
		to       Status
		want     []int
		partner  int // the PartnerError's, or -1
	}{
		{"not agreeing: alone", 0, []string{"p0.40"}, Informal, []int{0}, -1},
		{"agreeing takes the open partners", 0, []string{"p0.0", "p0.40", "p0.10"}, Agreed, []int{0, 4, 1}, -1},
		{"agreed partners and unknown ids are left out", 0, []string{"p0.20", "p9.9"}, Agreed, []int{0}, -1},
		{"no partners", 4, nil, Agreed, []int{4}, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Together(list, tt.i, tt.partners, tt.to)
			if err != nil || !slices.Equal(got, tt.want) {
				t.Fatalf("got %v, %v; want %v", got, err, tt.want)
			}
		})
	}
	// A partner inside an agreed provision but not agreed itself cannot be.
	list[3].Status = Open
	_, err := Together(list, 0, []string{"p0.30"}, Agreed)
	var pe *PartnerError
	if !errors.As(err, &pe) || pe.Partner != 3 || !errors.Is(err, ErrStatus) {
		t.Fatalf("err %v, want a PartnerError for 3 wrapping ErrStatus", err)
	}
}
