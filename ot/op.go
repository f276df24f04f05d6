// Package ot implements operational transformation for plain text in the op
// format of the ot-text-unicode type (ShareDB's text type). It is pure: no
// I/O, no goroutines, no logging. Every position and length counts Unicode
// code points.
package ot

// Op is a text operation: components walked over the draft from its start.
type Op []Component

// Component is one step of an Op. Exactly one of Skip, Insert and Delete is
// set. Deleted, when non-empty, is the exact text a Delete removes (the
// invertible {"d":"s"} form); then Delete is its length in code points.
type Component struct {
	Skip    int
	Insert  string
	Delete  int
	Deleted string
}
