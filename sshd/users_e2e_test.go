package sshd_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/assistkit/assist/internal/harness/testenv"
	"github.com/assistkit/assist/tickets"
	"github.com/assistkit/assist/viewer"
)

// runWithStdin runs a gateway command as tech with stdin.
func runWithStdin(t *testing.T, g *testenv.Gateway, tech *testenv.Technician, stdin string, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := g.Login(tech).Dial(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// One writer for both streams must be safe for concurrent use: bytes.Buffer is not.
	var out testenv.SyncBuffer
	status, err := viewer.Run(ctx, c, args, strings.NewReader(stdin), &out, &out)
	if err != nil {
		t.Fatal(err)
	}
	return out.String(), status
}

func TestUserAddWithPassword(t *testing.T) {
	g := testenv.StartGateway(t, testenv.Options{})
	admin := g.AddTechnician(t, "alice", true)
	bobKey := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(testenv.NewKey(t).PublicKey())))

	out, status := runWithStdin(t, g, admin, "correct horse battery staple\n", "user", "add", "bob", "--key", bobKey, "--password-stdin", "--full-name", "Bob Jones")
	if status != 0 {
		t.Fatalf("user add: %d %s", status, out)
	}
	u, err := g.Store.User("bob")
	if err != nil {
		t.Fatal(err)
	}
	if !tickets.CheckPassword(u.PasswordHash, "correct horse battery staple") || u.FullName != "Bob Jones" || len(u.Keys) != 1 {
		t.Fatalf("bob = %+v: want the password, full name and key given", u)
	}

	// Both from standard input is a usage error, and nothing is stored.
	out, status = runWithStdin(t, g, admin, bobKey+"\n", "user", "add", "carol", "--key", "-", "--password-stdin")
	if status != 2 || !strings.Contains(out, "both want standard input") {
		t.Fatalf("user add with two stdin inputs: %d %s", status, out)
	}
	if _, err := g.Store.User("carol"); err == nil {
		t.Fatal("carol was stored")
	}
	// A short password is refused, and nothing is stored.
	out, status = runWithStdin(t, g, admin, "short\n", "user", "add", "dave", "--key", bobKey, "--password-stdin")
	if status == 0 || !strings.Contains(out, "at least") {
		t.Fatalf("user add with a short password: %d %s", status, out)
	}
	if _, err := g.Store.User("dave"); err == nil {
		t.Fatal("dave was stored")
	}
}
