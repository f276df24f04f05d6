package charid

import "testing"

func TestParse(t *testing.T) {
	tests := []struct {
		in     string
		rev, k int
		ok     bool
	}{
		{"b12.3", 12, 3, true},
		{"b0.0", 0, 0, true},
		{"b999999999999999999.1", 999999999999999999, 1, true},
		{"b1234567890123456789.1", 0, 0, false}, // 19 digits
		{"p1.2", 0, 0, false},                   // other prefix
		{"b01.2", 0, 0, false},
		{"b1.02", 0, 0, false},
		{"b-1.2", 0, 0, false},
		{"b+1.2", 0, 0, false},
		{"b1.", 0, 0, false},
		{"b.1", 0, 0, false},
		{"b12", 0, 0, false},
		{"b1.2.3", 0, 0, false},
		{"", 0, 0, false},
		{"b", 0, 0, false},
	}
	for _, tt := range tests {
		rev, k, ok := Parse(tt.in, 'b')
		if ok != tt.ok || (ok && (rev != tt.rev || k != tt.k)) {
			t.Errorf("Parse(%q) = %d, %d, %v; want %d, %d, %v", tt.in, rev, k, ok, tt.rev, tt.k, tt.ok)
		}
	}
}

func FuzzRoundTrip(f *testing.F) {
	f.Add("b12.3")
	f.Add("p0.10")
	f.Fuzz(func(t *testing.T, s string) {
		rev, k, ok := Parse(s, 'b')
		if !ok {
			return
		}
		// An id has one spelling: what parses writes back the same.
		if back := string(Append(nil, 'b', rev, k)); back != s {
			t.Fatalf("Parse(%q) = %d, %d; Append gives %q", s, rev, k, back)
		}
	})
}

func TestMarks(t *testing.T) {
	pos := []int{2, 5, 9}
	ids := []ID{{0, 2}, {3, 0}, {4, 1}}
	m := NewMarks(4, 10, pos, func(i int) ID { return ids[i] })
	if err := m.Check(); err != nil {
		t.Fatal(err)
	}
	var gotPos []int
	var gotIDs []ID
	m.Each(func(p int, id ID) { gotPos, gotIDs = append(gotPos, p), append(gotIDs, id) })
	for i := range pos {
		if gotPos[i] != pos[i] || gotIDs[i] != ids[i] {
			t.Fatalf("round trip: %v %v, want %v %v", gotPos, gotIDs, pos, ids)
		}
	}
	bad := map[string]func(m *Marks){
		"version":         func(m *Marks) { m.V = 2 },
		"short revs":      func(m *Marks) { m.Revs = m.Revs[:2] },
		"negative gap":    func(m *Marks) { m.Gaps[1] = -1 },
		"two at one spot": func(m *Marks) { m.Gaps[1] = 0 },
		"past the end":    func(m *Marks) { m.Gaps[2] = 5 },
		"id from later":   func(m *Marks) { m.Revs[0] = 5 },
		"negative k":      func(m *Marks) { m.Ks[0] = -1 },
	}
	for name, spoil := range bad {
		c := NewMarks(4, 10, pos, func(i int) ID { return ids[i] })
		spoil(&c)
		if err := c.Check(); err == nil {
			t.Errorf("%s: Check passed %+v", name, c)
		}
	}
}
