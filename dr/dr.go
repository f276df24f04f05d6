// Package dr holds draftroom's domain: the types every other package
// speaks in (a draft, a committed op, who did it, a token, the records that
// hang off a draft), with no behaviour that needs a socket, a disk or a
// network. "dr" is short for draftroom; the module's root is the main
// package (the design card), so the domain takes this small name instead,
// in the manner of a root domain package.
//
// It also holds the one error type every package returns to a client,
// Error{Code, Message} (errors.go), and the one rule for each identifier
// and name, with Identity, who is behind a request (identity.go).
//
// Storage backends persist these types (storage/), the server moves them
// over the wire (server/), and the feature packages (brackets/, history/,
// provisions/) read them.
package dr

import (
	"encoding/json"

	"github.com/draftroom/draftroom/ot"
)

// Author is who did something, as the protocol's "by" shows it. It always
// comes from the credential (token or open-mode hello), never from what a
// client claims in a message.
type Author struct {
	Delegation string `json:"delegation"`
	Name       string `json:"name"`
}

// Draft is a draft's metadata. Rev is the head revision (the number of
// committed ops); Updated is the commit time of the head op in Unix
// milliseconds (Created when Rev is 0).
type Draft struct {
	ID      string `json:"id"`
	Title   string `json:"title"`
	Created int64  `json:"created"`
	Updated int64  `json:"updated"`
	Rev     int    `json:"rev"`
	By      Author `json:"by"` // who created it
	// Archived drafts are hidden from the default draft list and read-only
	// for drafters (docs/PROTOCOL.md "Renaming and archiving a draft").
	// A record written before the field existed reads as not archived.
	Archived bool `json:"archived,omitempty"`
}

// Op kinds: why an op was committed. Ordinary edits leave Kind empty.
const (
	KindEdit    = ""        // typed by a client
	KindPropose = "propose" // a bracket proposal built by the server
	KindResolve = "resolve" // a facilitator's resolution built by the server
	KindImport  = "import"  // a whole new text imported (PUT .../text)
)

// Op is one committed revision: op Rev takes the draft from Rev-1 to Rev.
// Op is normalised. (Principal, Client, Seq) identifies the submission for
// dedupe; Principal is the identity scope of the credential (a token id, or
// "open:" + delegation + "/" + name in open mode) so that a client id cannot
// be used to hijack someone else's dedupe. Principal is never sent to
// clients.
type Op struct {
	Rev       int    `json:"rev"`
	Op        ot.Op  `json:"op"`
	Client    string `json:"client"`
	Seq       uint64 `json:"seq"`
	Principal string `json:"principal,omitempty"`
	By        Author `json:"by"`
	TS        int64  `json:"ts"`
	Kind      string `json:"kind,omitempty"`
	Group     string `json:"group,omitempty"` // bracket group for propose/resolve
}

// Snapshot is a draft's full text at revision Rev, plus opaque sections that
// other packages persist with it (authorship, bracket identities, ...): Meta
// maps a section name to its JSON. Storage never interprets Meta. Rev 0 is
// the initial text, written by CreateDraft.
type Snapshot struct {
	Rev  int                        `json:"rev"`
	Text string                     `json:"text"`
	Meta map[string]json.RawMessage `json:"meta,omitempty"`
}

// Proposal records that a delegation proposed Text as alternative
// Alternative (0-based, as it stood after the proposal committed) of the
// bracket group Group, committed as op Rev.
type Proposal struct {
	Draft       string `json:"draft"`
	Group       string `json:"group"`
	Alternative int    `json:"alternative"`
	Text        string `json:"text"`
	By          Author `json:"by"`
	Rev         int    `json:"rev"`
	TS          int64  `json:"ts"`
	// Note is the proposer's note, if any: for a proposal imported from a
	// marked-up .docx, the Word author and date of the change.
	Note string `json:"note,omitempty"`
}

// Resolution choices.
const (
	ChoiceChoose     = "choose"     // keep alternative Index, drop the others
	ChoiceDrop       = "drop"       // drop optional text (a one-alternative group)
	ChoiceCompromise = "compromise" // replace the group with new text
)

// Decision is the durable record of a facilitator resolving a bracket group,
// committed atomically with the op (Rev) that rewrote the group.
type Decision struct {
	Draft        string   `json:"draft"`
	Group        string   `json:"group"`
	Alternatives []string `json:"alternatives"` // as they stood when resolved
	Choice       string   `json:"choice"`
	Index        int      `json:"index,omitempty"` // for ChoiceChoose
	Result       string   `json:"result"`          // the text that replaced the group
	Note         string   `json:"note,omitempty"`
	By           Author   `json:"by"`
	Rev          int      `json:"rev"`
	TS           int64    `json:"ts"`
}

// Commit is everything written atomically with a run of ops: Ops are
// consecutive revisions base+1, base+2, ...; Snapshots (optional) have Rev in
// (base, base+len(Ops)]; Proposals and Decisions refer to those ops. Either
// all of it is durable when Commit returns nil, or none of it is.
type Commit struct {
	Ops       []Op
	Snapshots []Snapshot
	Proposals []Proposal
	Decisions []Decision
}

// Label names a revision of a draft ("Chair's text, session 4").
type Label struct {
	Draft string `json:"draft"`
	Name  string `json:"name"`
	Rev   int    `json:"rev"`
	By    Author `json:"by"`
	TS    int64  `json:"ts"`
}

// Roles.
const (
	RoleFacilitator = "facilitator"
	RoleDrafter     = "drafter"
	RoleReviewer    = "reviewer"
)

// Token is an issued credential. Only Hash (hex SHA-256 of the secret) is
// stored, never the secret. Drafts holds glob patterns (path.Match) the token
// may access; empty means all drafts. Expires and Revoked are Unix ms, 0 for
// never / not revoked.
type Token struct {
	ID         string   `json:"id"`
	Hash       string   `json:"hash"`
	Delegation string   `json:"delegation"`
	Name       string   `json:"name"`
	Role       string   `json:"role"`
	Drafts     []string `json:"drafts,omitempty"`
	Created    int64    `json:"created"`
	Expires    int64    `json:"expires,omitempty"`
	Revoked    int64    `json:"revoked,omitempty"`
	IssuedBy   string   `json:"issued_by,omitempty"`
}

// AuditEntry is one line of the append-only audit log. Seq is assigned by the
// store (1, 2, ...).
type AuditEntry struct {
	Seq    int64  `json:"seq"`
	TS     int64  `json:"ts"`
	Actor  Author `json:"actor"`
	Role   string `json:"role,omitempty"`
	Action string `json:"action"` // "login", "token.issue", "token.revoke", "draft.create", "bracket.resolve", "label", ...
	Draft  string `json:"draft,omitempty"`
	Detail string `json:"detail,omitempty"`
}
