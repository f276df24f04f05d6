package server

// Package deals (docs/PROVISIONS.md "Packages", PROTOCOL.md 2.5): a
// facilitator links bracket groups and provisions that stand or fall
// together; resolving a package applies one choice to all its groups in one
// commit, and its provisions are agreed together (provisions_api.go).

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/draftroom/draftroom/brackets"
	"github.com/draftroom/draftroom/dr"
	"github.com/draftroom/draftroom/ot"
	"github.com/draftroom/draftroom/provisions"
)

// Audit actions of packages.
const (
	ActionPackage        = "package"
	ActionPackageResolve = "package.resolve"
)

type packageRequest struct {
	Members []string `json:"members"`
	Note    string   `json:"note"`
}

type packageJSON struct {
	Doc     string             `json:"doc"`
	Rev     int                `json:"rev"`
	Package provisions.Package `json:"package"`
}

// makePackage links members (bracket groups and provisions of draft doc as
// it stands) into a package, committed as an op that changes no text.
func (s *Server) makePackage(ctx context.Context, who dr.Identity, doc string, req packageRequest) (packageJSON, error) {
	if !who.IsFacilitator() {
		return packageJSON{}, dr.Errorf(dr.CodeForbidden, "only a facilitator makes a package; a %s may not", who.Role)
	}
	if err := provisions.CheckMembers(req.Members); err != nil {
		return packageJSON{}, err
	}
	if utf8.RuneCountInString(req.Note) > maxNoteLen {
		return packageJSON{}, dr.Errorf(dr.CodeBadRequest, "a note is at most %d characters", maxNoteLen)
	}
	var pkg provisions.Package
	op, err := s.submitBuilt(ctx, doc, who, func(st *DraftState) (Built, error) {
		o, err := provisionsOf(st)
		if err != nil {
			return Built{}, err
		}
		list := o.listAt(st)
		res, err := resultAt(st)
		if err != nil {
			return Built{}, err
		}
		for _, m := range req.Members {
			if strings.HasPrefix(m, "b") && res.Find(m) < 0 {
				return Built{}, dr.Errorf(dr.CodeNotFound, "draft %s has no open bracket group %s", doc, m)
			}
			if strings.HasPrefix(m, "p") && provisions.Find(list, m) < 0 {
				return Built{}, dr.Errorf(dr.CodeNotFound, "draft %s has no provision %s", doc, m)
			}
		}
		pkg = provisions.Package{ID: provisions.PackageID(st.Rev() + 1), Members: req.Members, Rev: st.Rev() + 1}
		return Built{Op: ot.Op{}, Kind: provisions.KindPackage, Group: provisions.PackageGroup(pkg.ID, pkg.Members),
			Decisions: []dr.Decision{{Group: pkg.ID, Choice: provisions.KindPackage, Alternatives: pkg.Members, Note: req.Note, By: who.Author}}}, nil
	})
	if err != nil {
		return packageJSON{}, err
	}
	s.Audit(ctx, who, ActionPackage, doc, fmt.Sprintf("%s: %s at rev %d", pkg.ID, strings.Join(pkg.Members, ","), op.Rev))
	return packageJSON{Doc: doc, Rev: op.Rev, Package: pkg}, nil
}

// packagesOf returns the packages of draft doc at the head.
func (s *Server) packagesOf(ctx context.Context, doc string) (int, []provisions.Package, error) {
	var (
		rev  int
		pkgs []provisions.Package
	)
	err := s.Do(ctx, doc, func(st *DraftState) error {
		o, err := provisionsOf(st)
		if err != nil {
			return err
		}
		rev, pkgs = st.Rev(), o.reg.Packages()
		return nil
	})
	return rev, pkgs, err
}

type packageResolvedJSON struct {
	Doc       string         `json:"doc"`
	Rev       int            `json:"rev"`
	Package   string         `json:"package"`
	Decisions []DecisionJSON `json:"decisions"`
}

// resolvePackage applies one resolution to every bracket group of package
// pkg in one op, with a decision record per group: conflict if any of them
// changed since req.Rev (or is gone).
func (s *Server) resolvePackage(ctx context.Context, who dr.Identity, doc, pkgID string, req bracketRequest) (packageResolvedJSON, error) {
	if !who.IsFacilitator() {
		return packageResolvedJSON{}, dr.Errorf(dr.CodeForbidden, "only a facilitator resolves a package; a %s may not", who.Role)
	}
	if req.Rev == nil || *req.Rev < 0 {
		return packageResolvedJSON{}, dr.Errorf(dr.CodeBadRequest, "resolve needs rev, the revision at which you saw the package's groups")
	}
	res, err := resolutionOf(req, true)
	if err != nil {
		return packageResolvedJSON{}, err
	}
	groups, err := s.packageGroups(ctx, doc, pkgID)
	if err != nil {
		return packageResolvedJSON{}, err
	}
	seen, err := s.packageGroupsSeen(ctx, doc, pkgID, groups, *req.Rev)
	if err != nil {
		return packageResolvedJSON{}, err
	}
	var decisions []dr.Decision
	op, err := s.submitBuilt(ctx, doc, who, func(st *DraftState) (Built, error) {
		all, ds, err := resolvePackageSeen(st, pkgID, seen, res, req, who)
		if err != nil {
			return Built{}, err
		}
		decisions = ds
		return Built{Op: all, Kind: dr.KindResolve, Group: pkgID, Decisions: ds}, nil
	})
	if err != nil {
		return packageResolvedJSON{}, err
	}
	out := packageResolvedJSON{Doc: doc, Rev: op.Rev, Package: pkgID}
	for _, d := range decisions {
		d.Draft, d.Rev, d.TS = doc, op.Rev, op.TS
		out.Decisions = append(out.Decisions, decisionJSON(d))
	}
	s.Audit(ctx, who, ActionPackageResolve, doc, fmt.Sprintf("%s %s (%d groups) at rev %d", pkgID, req.Choice, len(decisions), op.Rev))
	return out, nil
}

// packageGroups returns the bracket groups of package pkgID of draft doc.
func (s *Server) packageGroups(ctx context.Context, doc, pkgID string) ([]string, error) {
	_, pkgs, err := s.packagesOf(ctx, doc)
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(pkgs, func(p provisions.Package) bool { return p.ID == pkgID })
	if i < 0 {
		return nil, dr.Errorf(dr.CodeNotFound, "draft %s has no package %s", doc, dr.Clip(pkgID))
	}
	var groups []string
	for _, m := range pkgs[i].Members {
		if strings.HasPrefix(m, "b") {
			groups = append(groups, m)
		}
	}
	if len(groups) == 0 {
		return nil, dr.Errorf(dr.CodeBadRequest, "package %s holds no bracket group: agree its provisions instead", pkgID)
	}
	return groups, nil
}

// packageGroupsSeen returns the groups of package pkgID as draft doc held
// them at rev, the revision the facilitator saw them at.
func (s *Server) packageGroupsSeen(ctx context.Context, doc, pkgID string, groups []string, rev int) ([]brackets.Group, error) {
	seenAt, err := s.bracketListing(ctx, doc, rev)
	if err != nil {
		return nil, err
	}
	seen := make([]brackets.Group, len(groups))
	for i, g := range groups {
		gi := seenAt.res.Find(g)
		if gi < 0 {
			return nil, dr.Errorf(dr.CodeConflict, "group %s of package %s was not open at revision %d", g, pkgID, rev)
		}
		seen[i] = seenAt.res.Groups[gi]
	}
	return seen, nil
}

// resolvePackageSeen builds, inside a BuildFunc, the one op that resolves
// every group of package pkgID as seen (brackets.Result.ResolveEach), and
// a decision record per group: conflict if one of them changed since.
func resolvePackageSeen(st *DraftState, pkgID string, seen []brackets.Group, res brackets.Resolution, req bracketRequest, who dr.Identity) (ot.Op, []dr.Decision, error) {
	cur, err := resultAt(st)
	if err != nil {
		return nil, nil, err
	}
	idx := make([]int, len(seen))
	for i, g := range seen {
		gi := cur.Find(g.ID)
		if gi < 0 || !g.Same(cur.Groups[gi]) {
			return nil, nil, dr.Errorf(dr.CodeConflict, "group %s of package %s changed since revision %d (or was resolved); look again", g.ID, pkgID, *req.Rev)
		}
		idx[i] = gi
	}
	all, done, err := cur.ResolveEach(idx, res)
	var ge *brackets.GroupError
	switch {
	case errors.Is(err, brackets.ErrNested):
		return nil, nil, dr.Errorf(dr.CodeBadRequest, "groups of package %s are nested in each other; resolve them one by one", pkgID)
	case errors.As(err, &ge):
		return nil, nil, dr.Prefix("resolve "+ge.Group+" of package "+pkgID, ge.Err)
	case err != nil:
		return nil, nil, fmt.Errorf("package %s: %w", pkgID, err)
	}
	decisions := make([]dr.Decision, len(done))
	for i, d := range done {
		decisions[i] = decisionOf(cur.Groups[d.Group], d.Change, res, req, who)
	}
	return all, decisions, nil
}

func (s *Server) postPackage(w http.ResponseWriter, r *http.Request) error {
	who, doc, req, err := draftRequest[packageRequest](s, w, r)
	if err != nil {
		return err
	}
	out, err := s.makePackage(r.Context(), who, doc, req)
	return writeResult(w, http.StatusCreated, out, err)
}

func (s *Server) getPackages(w http.ResponseWriter, r *http.Request) error {
	_, doc, err := s.draftFor(r)
	if err != nil {
		return err
	}
	rev, pkgs, err := s.packagesOf(r.Context(), doc)
	if pkgs == nil {
		pkgs = []provisions.Package{}
	}
	return writeResult(w, http.StatusOK, map[string]any{"doc": doc, "rev": rev, "packages": pkgs}, err)
}

func (s *Server) postPackageResolve(w http.ResponseWriter, r *http.Request) error {
	who, doc, req, err := draftRequest[bracketRequest](s, w, r)
	if err != nil {
		return err
	}
	out, err := s.resolvePackage(r.Context(), who, doc, r.PathValue("pkg"), req)
	return writeResult(w, http.StatusOK, out, err)
}
