package authz

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// A Policy says who may use a route. Build one with Public, Authenticated,
// Role or Permission and narrow it with the methods Role, Permission and
// Object: every condition must hold. The zero Policy is invalid, and Handle
// refuses it: a route without a deliberate policy cannot be registered.
//
// Policies are values; each method returns a new Policy and never changes
// the receiver.
type Policy struct {
	kind         kind
	reason       string // public: why the route is public
	roles        []string
	perms        []string
	objects      []objectCheck
	revealObject bool          // answer 403 instead of 404 on object denials
	mfa          bool          // a second factor is required
	fresh        time.Duration // the (second) factor must be this recent; 0: any age
}

type kind uint8

const (
	kindNone kind = iota
	kindPublic
	kindAuthenticated
)

type objectCheck struct {
	load Loader
	rule Rule
}

// Public lets anyone use the route, signed in or not. The reason is
// required and shows up in the readiness report next to the route ("login
// form", "uptime monitor").
func Public(reason string) Policy { return Policy{kind: kindPublic, reason: reason} }

// Authenticated requires a signed-in principal, with no role or permission.
func Authenticated() Policy { return Policy{kind: kindAuthenticated} }

// Role requires a signed-in principal with at least one of roles.
func Role(roles ...string) Policy { return Authenticated().Role(roles...) }

// Permission requires a signed-in principal holding every one of perms.
func Permission(perms ...string) Policy { return Authenticated().Permission(perms...) }

// Role narrows p to principals with at least one of roles. Calling it twice
// requires one role of each list.
func (p Policy) Role(roles ...string) Policy {
	q := p.clone()
	if q.kind == kindNone {
		q.kind = kindAuthenticated
	}
	// Each call appends one group of alternatives, ended by "".
	q.roles = append(q.roles, roles...)
	q.roles = append(q.roles, "")
	return q
}

// Permission narrows p to principals holding every one of perms.
func (p Policy) Permission(perms ...string) Policy {
	q := p.clone()
	if q.kind == kindNone {
		q.kind = kindAuthenticated
	}
	q.perms = append(q.perms, perms...)
	return q
}

// Object adds an object-level check: load resolves the object the request
// addresses (from r.PathValue) and rule decides whether the principal may
// use it. Object checks run after the role and permission checks, in the
// order added. A denial, like a missing object, answers 404 unless
// RevealObjects was called.
func (p Policy) Object(load Loader, rule Rule) Policy {
	q := p.clone()
	if q.kind == kindNone {
		q.kind = kindAuthenticated
	}
	q.objects = append(q.objects, objectCheck{load: load, rule: rule})
	return q
}

// RevealObjects makes object-level denials answer 403 instead of 404. Use it
// only where object IDs are not secret: a 403 tells the caller the object
// exists.
func (p Policy) RevealObjects() Policy {
	q := p.clone()
	q.revealObject = true
	return q
}

// RequireMFA narrows p to principals who verified a second factor in
// this session (a Principal.Factors method other than "pwd"). A signed-in
// principal without one is refused with 401 and a problem document whose
// "step_up" member is "mfa", so the client knows to ask for the code, not
// the password. Put it on every admin route (readiness check AUTH013).
func (p Policy) RequireMFA() Policy {
	q := p.clone()
	if q.kind == kindNone {
		q.kind = kindAuthenticated
	}
	q.mfa = true
	return q
}

// Fresh narrows p to principals who verified a factor within maxAge — the
// second factor when the policy also has RequireMFA, any factor otherwise:
// re-authentication before a dangerous action (an export, a role change).
// A stale session is refused with 401 and a problem document whose
// "step_up" member is "reauthenticate" and "max_age" is maxAge in seconds.
// maxAge must be positive.
func (p Policy) Fresh(maxAge time.Duration) Policy {
	q := p.clone()
	if q.kind == kindNone {
		q.kind = kindAuthenticated
	}
	q.fresh = maxAge
	if maxAge <= 0 {
		q.fresh = -1 // refused by validate
	}
	return q
}

// RequiresMFA reports whether the policy requires a second factor.
func (p Policy) RequiresMFA() bool { return p.mfa }

// Freshness is the maximum age of the latest verification (Fresh), 0 when
// the policy does not ask for recent authentication.
func (p Policy) Freshness() time.Duration { return max(p.fresh, 0) }

// StepUp names what a signed-in principal must do to satisfy a policy's
// authentication requirements.
type StepUp string

// Step-ups.
const (
	StepUpNone StepUp = ""
	// StepUpMFA: verify a second factor.
	StepUpMFA StepUp = "mfa"
	// StepUpReauthenticate: verify a factor again (the second factor when
	// the policy requires MFA); the last verification is too old.
	StepUpReauthenticate StepUp = "reauthenticate"
)

// StepUpFor returns what pr must do at time now to satisfy the policy's
// RequireMFA and Fresh requirements; StepUpNone when nothing.
func (p Policy) StepUpFor(pr Principal, now time.Time) StepUp {
	if p.mfa {
		at, ok := pr.secondFactor()
		if !ok {
			return StepUpMFA
		}
		if p.fresh > 0 && now.Sub(at) > p.fresh {
			return StepUpReauthenticate
		}
		return StepUpNone
	}
	if p.fresh > 0 {
		at, ok := pr.lastVerified()
		if !ok || now.Sub(at) > p.fresh {
			return StepUpReauthenticate
		}
	}
	return StepUpNone
}

func (p Policy) clone() Policy {
	q := p
	q.roles = append([]string(nil), p.roles...)
	q.perms = append([]string(nil), p.perms...)
	q.objects = append([]objectCheck(nil), p.objects...)
	return q
}

// IsPublic reports whether anyone may use the route.
func (p Policy) IsPublic() bool { return p.kind == kindPublic }

// PublicReason is the reason given to Public.
func (p Policy) PublicReason() string { return p.reason }

// RequiresAuthentication reports whether the route needs a signed-in
// principal.
func (p Policy) RequiresAuthentication() bool { return p.kind == kindAuthenticated }

// Roles returns every role named by the policy (one of each Role call's list
// is required).
func (p Policy) Roles() []string {
	var out []string
	for _, r := range p.roles {
		if r != "" {
			out = append(out, r)
		}
	}
	return out
}

// RoleGroups returns the role lists of each Role call: the principal needs
// one role of every group.
func (p Policy) RoleGroups() [][]string {
	var out [][]string
	var group []string
	for _, r := range p.roles {
		if r == "" {
			out = append(out, group)
			group = nil
			continue
		}
		group = append(group, r)
	}
	return out
}

// Permissions returns the permissions the policy requires (all of them).
func (p Policy) Permissions() []string { return append([]string(nil), p.perms...) }

// HasObjectCheck reports whether the policy checks the addressed object.
func (p Policy) HasObjectCheck() bool { return len(p.objects) > 0 }

// ObjectRules returns the names of the object rules, in order.
func (p Policy) ObjectRules() []string {
	out := make([]string, len(p.objects))
	for i, o := range p.objects {
		out[i] = o.rule.Name()
	}
	return out
}

// ObjectDenialStatus is the status of an object-level denial: 404 (the
// default) or 403 (RevealObjects).
func (p Policy) ObjectDenialStatus() int {
	if p.revealObject {
		return http.StatusForbidden
	}
	return http.StatusNotFound
}

// String describes the policy for reports: `public ("login form")`,
// `role(admin) object(same tenant)`.
func (p Policy) String() string {
	switch p.kind {
	case kindNone:
		return "none"
	case kindPublic:
		return fmt.Sprintf("public (%q)", p.reason)
	}
	parts := []string{"authenticated"}
	var group []string
	for _, r := range p.roles {
		if r == "" {
			parts = append(parts, "role("+strings.Join(group, "|")+")")
			group = group[:0]
			continue
		}
		group = append(group, r)
	}
	if len(p.perms) > 0 {
		parts = append(parts, "permission("+strings.Join(p.perms, ",")+")")
	}
	for _, o := range p.objects {
		parts = append(parts, "object("+o.rule.Name()+")")
	}
	if len(parts) > 1 {
		parts = parts[1:]
	}
	if p.revealObject {
		parts = append(parts, "reveal-objects")
	}
	if p.mfa {
		parts = append(parts, "mfa")
	}
	if p.fresh > 0 {
		parts = append(parts, "fresh("+p.fresh.String()+")")
	}
	return strings.Join(parts, " ")
}

// Validate reports what is wrong with a policy: the zero Policy, Public
// without a reason or with conditions, an empty role list or permission, an
// object check without a loader or rule. Mux.Handle panics on such a policy;
// router adapters call Validate when a route is registered.
func (p Policy) Validate() error {
	switch p.kind {
	case kindNone:
		return errors.New("the policy is the zero Policy; use authz.Public(reason), authz.Authenticated(), authz.Role(...) or authz.Permission(...)")
	case kindPublic:
		if strings.TrimSpace(p.reason) == "" {
			return errors.New("authz.Public needs a reason saying why the route is public")
		}
		if len(p.roles) > 0 || len(p.perms) > 0 || len(p.objects) > 0 || p.mfa || p.fresh != 0 {
			return errors.New("a Public policy cannot require roles, permissions, object checks, MFA or fresh authentication; start from authz.Authenticated(), authz.Role(...) or authz.Permission(...)")
		}
		return nil
	}
	if p.fresh < 0 {
		return errors.New("Policy.Fresh needs a positive maximum age, such as 15*time.Minute")
	}
	group := 0
	for _, r := range p.roles {
		if r == "" {
			if group == 0 {
				return errors.New("authz.Role needs at least one role")
			}
			group = 0
			continue
		}
		group++
	}
	for _, perm := range p.perms {
		if perm == "" {
			return errors.New("authz.Permission has an empty permission")
		}
	}
	for _, o := range p.objects {
		if o.load == nil || o.rule.allow == nil {
			return errors.New("Policy.Object needs a non-nil loader and a rule such as authz.SameTenant")
		}
	}
	return nil
}

// Decision is the outcome of a policy: Allow, or the status of a denial.
type Decision int

// Decisions. A denial's value is its HTTP status.
const (
	Allow           Decision = 0
	Unauthenticated Decision = http.StatusUnauthorized
	Forbidden       Decision = http.StatusForbidden
	NotFound        Decision = http.StatusNotFound
	Failed          Decision = http.StatusInternalServerError
)

// Allowed reports whether d allows the request.
func (d Decision) Allowed() bool { return d == Allow }

// AllowsPrincipal evaluates the role, permission, MFA and freshness parts
// of p for principal at time.Now(), without object checks. It is what the
// readiness probe uses to know what an identity should be able to reach.
func (p Policy) AllowsPrincipal(pr Principal) Decision {
	return p.AllowsPrincipalAt(pr, time.Now())
}

// AllowsPrincipalAt is AllowsPrincipal at time now. A principal with the
// right roles who lacks a step-up (StepUpFor) is Unauthenticated.
func (p Policy) AllowsPrincipalAt(pr Principal, now time.Time) Decision {
	switch p.kind {
	case kindPublic:
		return Allow
	case kindNone:
		return Forbidden
	}
	if !pr.Authenticated() {
		return Unauthenticated
	}
	ok := false // the current role group has a match
	for _, r := range p.roles {
		if r == "" {
			if !ok {
				return Forbidden
			}
			ok = false
			continue
		}
		if !ok && pr.HasRole(r) {
			ok = true
		}
	}
	for _, perm := range p.perms {
		if !pr.Can(perm) {
			return Forbidden
		}
	}
	if (p.mfa || p.fresh > 0) && p.StepUpFor(pr, now) != StepUpNone {
		return Unauthenticated
	}
	return Allow
}

// Decide evaluates the whole policy, object checks included, for the
// principal on r at time.Now(). r must carry the path values of the
// matched pattern.
func (p Policy) Decide(r *http.Request, pr Principal) (Decision, error) {
	return p.DecideAt(r, pr, time.Now())
}

// DecideAt is Decide at time now.
func (p Policy) DecideAt(r *http.Request, pr Principal, now time.Time) (Decision, error) {
	if d := p.AllowsPrincipalAt(pr, now); d != Allow {
		return d, nil
	}
	for _, o := range p.objects {
		obj, err := o.load(r)
		if errors.Is(err, ErrNotFound) {
			return NotFound, nil
		}
		if err != nil {
			return Failed, err
		}
		if !o.rule.allow(pr, obj) {
			if p.revealObject {
				return Forbidden, nil
			}
			return NotFound, nil
		}
	}
	return Allow, nil
}
