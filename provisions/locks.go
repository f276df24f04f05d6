package provisions

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/draftroom/draftroom/ot"
)

// Lock is the text of an agreed provision, which no op may change: the
// code points [Span[0], Span[1]) from the start of its line to the line
// break after its last non-blank line (Closed), or to the end of the text
// (not Closed). Blank lines after it are not locked, so a delegate can
// type a new provision there.
type Lock struct {
	ID     string `json:"id"`
	Name   string `json:"name"` // "paragraph 2 of article 5", for messages
	Span   [2]int `json:"span"`
	Closed bool   `json:"closed"` // the span ends with a line break
}

// LockOf returns the lock of provision i of list, a listing of text.
func LockOf(text Text, list []Listed, i int) Lock {
	p := list[i].Provision
	s := text.Slice(p.Span[0], p.Span[1])
	body := strings.TrimRight(s, " \t\n\r\u00a0\u3000")
	end := p.Span[0] + utf8.RuneCountInString(body)
	closed := false
	if end < p.Span[1] && strings.Contains(s[len(body):], "\n") {
		// Through the line break of the last line, and only it.
		rest := s[len(body):]
		end += utf8.RuneCountInString(rest[:strings.IndexByte(rest, '\n')]) + 1
		closed = true
	}
	return Lock{ID: p.ID, Name: Name(list, i), Span: [2]int{p.Span[0], end}, Closed: closed}
}

// Name names provision i of list for people: "article 5", "paragraph 2 of
// article 5", "subparagraph (b) of paragraph 2 of article 5".
func Name(list []Listed, i int) string {
	var b strings.Builder
	for ; i >= 0; i = list[i].Parent {
		p := list[i]
		if b.Len() > 0 {
			b.WriteString(" of ")
		}
		b.WriteString(string(p.Kind))
		switch {
		case p.Num == "":
		case p.Kind == Subparagraph || p.Kind == Item:
			b.WriteString(" (" + p.Num + ")")
		default:
			b.WriteString(" " + p.Num)
		}
		if p.Kind.heading() {
			break // "of chapter II" adds nothing a delegate needs
		}
	}
	return b.String()
}

// LockedError is the refusal of an op that would change locked text.
type LockedError struct {
	ID   string // the agreed provision
	Name string // its name, "paragraph 2 of article 5"
	Span [2]int // its locked span
}

func (e *LockedError) Error() string {
	return fmt.Sprintf("%s (%s) is agreed: its text [%d,%d) is locked", e.Name, e.ID, e.Span[0], e.Span[1])
}

func (e *LockedError) Unwrap() error { return ErrLocked }

// Locks is the set of locked spans of a text, sorted by start. A nil Locks
// locks nothing.
type Locks []Lock

// Check returns a *LockedError (which wraps ErrLocked) if op would change
// the text of a lock: a delete of any of its code points or of the line
// break before it, an insert strictly inside it, an insert at its start
// that does not end with a line break (it would join its first line), or
// an insert at the end of a span that is not Closed that does not start
// with one. Inserts at a span's edges that keep its lines whole are
// allowed: typing right next to agreed text is not changing it. op must
// be well formed and fit the text the locks describe.
func (ls Locks) Check(op ot.Op) error {
	if len(ls) == 0 {
		return nil
	}
	pos := 0
	for _, c := range op {
		switch {
		case c.Skip > 0:
			pos += c.Skip
		case c.Insert != "":
			for _, l := range ls {
				s, e := l.Span[0], l.Span[1]
				if (pos > s && pos < e) ||
					(pos == s && !strings.HasSuffix(c.Insert, "\n")) ||
					(pos == e && !l.Closed && !strings.HasPrefix(c.Insert, "\n")) {
					return &LockedError{ID: l.ID, Name: l.Name, Span: l.Span}
				}
			}
		case c.Delete > 0:
			a, b := pos, pos+c.Delete
			for _, l := range ls {
				// The locked text and the line break before it.
				from := max(l.Span[0]-1, 0)
				if a < l.Span[1] && b > from {
					return &LockedError{ID: l.ID, Name: l.Name, Span: l.Span}
				}
			}
			pos = b
		}
	}
	return nil
}

// Transform moves the locks through op, an op that Check allowed: an
// insert at a lock's start goes before it, one at its end after it.
func (ls Locks) Transform(op ot.Op) Locks {
	if len(ls) == 0 {
		return ls
	}
	out := make(Locks, len(ls))
	for i, l := range ls {
		m := posMap{op: op}
		s, _ := m.at(l.Span[0])
		e := s
		if l.Span[1] > l.Span[0] {
			last, _ := m.at(l.Span[1] - 1)
			e = last + 1
		}
		out[i] = Lock{ID: l.ID, Name: l.Name, Span: [2]int{s, e}, Closed: l.Closed}
	}
	return out
}

// With returns the locks with l added (replacing a lock of the same id).
func (ls Locks) With(l Lock) Locks {
	out := ls.Without(l.ID)
	i := sortSearch(len(out), func(i int) bool { return out[i].Span[0] > l.Span[0] })
	return slices.Insert(out, i, l)
}

// Without returns the locks without the one of id.
func (ls Locks) Without(id string) Locks {
	out := make(Locks, 0, len(ls)+1)
	for _, l := range ls {
		if l.ID != id {
			out = append(out, l)
		}
	}
	return out
}

// Holds reports whether some lock holds the code point p.
func (ls Locks) Holds(p int) bool {
	for _, l := range ls {
		if p >= l.Span[0] && p < l.Span[1] {
			return true
		}
	}
	return false
}
