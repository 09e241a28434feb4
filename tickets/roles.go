package tickets

import (
	"fmt"
	"strings"
)

// Role is what an account is for. Every check of what an account may do asks its role through
// May, so the gateway's commands, the web screens and the recordings agree on one table.
type Role string

const (
	// RoleTechnician works the queue: reads, claims and closes requests, connects to people.
	RoleTechnician Role = "technician"
	// RoleAdmin does what a technician does and manages accounts, reads the audit trail and
	// recordings, and closes requests in bulk.
	RoleAdmin Role = "admin"
	// RoleAuditor reads the requests, the audit trail and the recordings, and changes nothing:
	// it connects to nobody, mints no .otc, manages no account.
	RoleAuditor Role = "auditor"
)

// Roles are the roles in the order help texts list them.
var Roles = []Role{RoleTechnician, RoleAdmin, RoleAuditor}

// ParseRole reads a role's name.
func ParseRole(s string) (Role, error) {
	for _, r := range Roles {
		if string(r) == s {
			return r, nil
		}
	}
	return "", fmt.Errorf("role %q: want technician, admin or auditor", s)
}

// Action is something an account may or may not do.
type Action string

const (
	ReadRequests     Action = "read requests"                   // request list, show, watch
	WorkRequests     Action = "work on requests"                // claim, release, assign, note, close
	Connect          Action = "connect to a person's computer"  // mint an .otc
	CloseInBulk      Action = "close requests by address"       // request close --from
	ManageAccounts   Action = "manage accounts"                 // user add, list, remove, others' passwords
	ReadAudit        Action = "read the audit trail"            // audit
	ReadRecordings   Action = "read the recordings of sessions" // recording list, get (play, export)
	DeleteRecordings Action = "delete recordings"               // recording delete
)

// rights is the role table. Everything not listed is refused.
var rights = map[Role][]Action{
	RoleTechnician: {ReadRequests, WorkRequests, Connect},
	RoleAdmin:      {ReadRequests, WorkRequests, Connect, CloseInBulk, ManageAccounts, ReadAudit, ReadRecordings, DeleteRecordings},
	RoleAuditor:    {ReadRequests, ReadAudit, ReadRecordings},
}

// May reports whether the role allows a.
func (r Role) May(a Action) bool {
	for _, have := range rights[r] {
		if have == a {
			return true
		}
	}
	return false
}

// Refusal is the error for an account of role r that tried what (a command, a page) needing a:
// it names the roles that may, for the account's owner to ask for one.
func (r Role) Refusal(what string, a Action) error {
	var may []string
	for _, role := range Roles {
		if role.May(a) {
			may = append(may, string(role)+"s")
		}
	}
	return fmt.Errorf("%s: only %s may %s (your role: %s)", what, strings.Join(may, " and "), a, r)
}

// AccountRole is the account's role. An account stored before roles existed has none and is
// an admin or a technician by its Admin flag.
func (u User) AccountRole() Role {
	if u.Role != "" {
		return u.Role
	}
	if u.Admin {
		return RoleAdmin
	}
	return RoleTechnician
}

// withRole sets Role, and Admin from it, as every stored account carries them: Admin stays for
// a gateway of an earlier build, which knows no roles (an auditor is no admin there either).
func (u User) withRole() User {
	u.Role = u.AccountRole()
	u.Admin = u.Role == RoleAdmin
	return u
}
