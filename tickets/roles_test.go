package tickets

import "testing"

// TestRoleTable pins who may do what.
func TestRoleTable(t *testing.T) {
	want := map[Action][]Role{
		ReadRequests:   {RoleTechnician, RoleAdmin, RoleAuditor},
		WorkRequests:   {RoleTechnician, RoleAdmin},
		Connect:        {RoleTechnician, RoleAdmin},
		CloseInBulk:    {RoleAdmin},
		ManageAccounts: {RoleAdmin},
		ReadAudit:      {RoleAdmin, RoleAuditor},
		ReadRecordings: {RoleAdmin, RoleAuditor},
	}
	for a, roles := range want {
		for _, r := range Roles {
			allowed := false
			for _, w := range roles {
				allowed = allowed || w == r
			}
			if r.May(a) != allowed {
				t.Errorf("%s may %s = %v, want %v", r, a, r.May(a), allowed)
			}
		}
	}
	if Role("root").May(ReadRequests) {
		t.Error("an unknown role may read requests")
	}
}

// TestStoredRoles: an account stored before roles is read by its admin flag, and a stored
// account carries its role and the flag that matches it.
func TestStoredRoles(t *testing.T) {
	s, _ := openTestStore(t)
	for _, u := range []User{{Name: "old-admin", Admin: true}, {Name: "old-tech"}, {Name: "aud", Role: RoleAuditor, Admin: true}} {
		if err := s.AddUser(u); err != nil {
			t.Fatal(err)
		}
	}
	for name, want := range map[string]Role{"old-admin": RoleAdmin, "old-tech": RoleTechnician, "aud": RoleAuditor} {
		u, err := s.User(name)
		if err != nil {
			t.Fatal(err)
		}
		if u.AccountRole() != want || u.Role != want || u.Admin != (want == RoleAdmin) {
			t.Errorf("%s: role %q (field %q), admin %v; want %s", name, u.AccountRole(), u.Role, u.Admin, want)
		}
	}
	if (User{Admin: true}).AccountRole() != RoleAdmin || (User{}).AccountRole() != RoleTechnician {
		t.Error("an account without a role is not read by its admin flag")
	}
}
