package provisions

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// KindPackage is the op kind of a package's creation: an op that changes no
// text whose Group is the package's id and members, "k<rev>=b0.12,p0.40"
// (PackageGroup), so every node reads the same packages from the log.
const KindPackage = "package"

// ErrPackage: a package that cannot be made (fewer than two members, a
// member twice, a member that is neither a bracket group nor a provision).
var ErrPackage = fmt.Errorf("provisions: invalid package")

// Package links bracket groups (ids b…) and provisions (ids p…) that stand
// or fall together: resolving it applies one choice to all its groups in
// one commit, and its provisions are agreed together.
type Package struct {
	ID      string   `json:"id"`
	Members []string `json:"members"`
	Rev     int      `json:"rev"`
}

// PackageID is the id of the package created by the op of revision rev.
func PackageID(rev int) string { return "k" + strconv.Itoa(rev) }

// CheckMembers checks a package's members: two or more, none twice, each a
// bracket group id (b<rev>.<k>) or a provision id (p<rev>.<k>). Errors wrap
// ErrPackage.
func CheckMembers(members []string) error {
	if len(members) < 2 {
		return refuse(ErrPackage, "a package links two or more bracket groups or provisions")
	}
	seen := make(map[string]bool, len(members))
	for _, m := range members {
		if seen[m] {
			return refuse(ErrPackage, "%s is listed twice", m)
		}
		seen[m] = true
		if _, err := ParseID(m); err == nil {
			continue
		}
		if _, err := ParseID("p" + strings.TrimPrefix(m, "b")); err == nil && strings.HasPrefix(m, "b") {
			continue
		}
		return refuse(ErrPackage, "%q is neither a bracket group (b<rev>.<k>) nor a provision (p<rev>.<k>)", m)
	}
	return nil
}

// PackageGroup is the Group of the op that creates a package.
func PackageGroup(id string, members []string) string {
	return id + "=" + strings.Join(members, ",")
}

// ParsePackageGroup reads a PackageGroup.
func ParsePackageGroup(g string) (Package, bool) {
	id, list, ok := strings.Cut(g, "=")
	if !ok || !strings.HasPrefix(id, "k") {
		return Package{}, false
	}
	return Package{ID: id, Members: strings.Split(list, ",")}, true
}

// Packages returns the register's packages in the order they were made.
func (r *Register) Packages() []Package {
	return slices.Clone(r.packages)
}

// PackagesOf returns the ids of the packages holding member id.
func (r *Register) PackagesOf(id string) []string {
	var out []string
	for _, p := range r.packages {
		if slices.Contains(p.Members, id) {
			out = append(out, p.ID)
		}
	}
	return out
}

// Partners returns the provisions that share a package with provision id
// (id included when it is in one), in the order the packages list them.
func (r *Register) Partners(id string) []string {
	var out []string
	for _, p := range r.packages {
		if !slices.Contains(p.Members, id) {
			continue
		}
		for _, m := range p.Members {
			if strings.HasPrefix(m, "p") && !slices.Contains(out, m) {
				out = append(out, m)
			}
		}
	}
	return out
}

// A PartnerError is why a package partner (list index Partner) cannot be
// agreed with the provision being agreed; Err is Change's error.
type PartnerError struct {
	Partner int
	Err     error
}

func (e *PartnerError) Error() string { return fmt.Sprintf("partner %d: %v", e.Partner, e.Err) }
func (e *PartnerError) Unwrap() error { return e.Err }

// Together returns the provisions of list that take status to with
// provision i: i itself and, when it is agreed, its package partners
// (partners, as Register.Partners lists them) in list that are not agreed
// yet, each checked with Change: provisions in a package are agreed
// together. Errors: a *PartnerError.
func Together(list []Listed, i int, partners []string, to Status) ([]int, error) {
	targets := []int{i}
	if to != Agreed {
		return targets, nil
	}
	for _, id := range partners {
		j := Find(list, id)
		if j < 0 || j == i || list[j].Status == Agreed {
			continue
		}
		if _, err := Change(list, id, to); err != nil {
			return nil, &PartnerError{Partner: j, Err: err}
		}
		targets = append(targets, j)
	}
	return targets, nil
}
