package sshd_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/assistkit/assist/internal/harness/testenv"
	"github.com/assistkit/assist/protocol"
	"github.com/assistkit/assist/tickets"
)

// posingSigner offers a public key it does not hold: PublicKey is the victim's, Sign uses the
// attacker's own private key. The server accepts the offer (the "query"), then the signature
// fails. CVE-2024-45337 was servers that authorised by that last offered key anyway.
type posingSigner struct {
	pub  ssh.PublicKey
	real ssh.Signer
}

func (p posingSigner) PublicKey() ssh.PublicKey { return p.pub }
func (p posingSigner) Sign(r io.Reader, data []byte) (*ssh.Signature, error) {
	return p.real.Sign(r, data)
}

// offeredThenAuthenticated logs in offering victim's key first and then attacker's real key.
// x/crypto's server ends the connection at the bad signature, so the second key is never
// tried on that connection; OpenSSH (below) shows the other order of events.
func offeredThenAuthenticated(t *testing.T, g *testenv.Gateway, user string, victim ssh.PublicKey, attacker ssh.Signer) (*ssh.Client, error) {
	t.Helper()
	return dialAs(t, g, user, ssh.PublicKeys(posingSigner{victim, testenv.NewKey(t)}, attacker))
}

// openSSHOffering runs OpenSSH's ssh as user with two identities. The first is offered's
// public key in a .pub file beside a passphrase-protected private key (not even offered's):
// ssh offers the public key, hears the gateway would accept it, cannot unlock the private
// key in BatchMode and goes on to the second — offered one key, authenticated with another.
func openSSHOffering(t *testing.T, g *testenv.Gateway, user string, offered ssh.PublicKey, attackerKeyFile string) (string, int) {
	t.Helper()
	dir := t.TempDir()
	pubOnly := filepath.Join(dir, "victim")
	if err := os.WriteFile(pubOnly+".pub", ssh.MarshalAuthorizedKey(offered), 0o644); err != nil {
		t.Fatal(err)
	}
	_, locked, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKeyWithPassphrase(locked, "", []byte("not given"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pubOnly, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	tech := &testenv.Technician{Name: user, KeyFile: pubOnly}
	_, errs, status := openSSH(t, g, tech, "-v", "-i", attackerKeyFile, "request", "list")
	if !regexp.MustCompile(`Server accepts key: ` + regexp.QuoteMeta(pubOnly) + ` ED25519 ` + regexp.QuoteMeta(ssh.FingerprintSHA256(offered))).MatchString(errs) {
		t.Fatalf("ssh did not offer the key it does not hold, or the gateway did not accept the offer:\n%s", errs)
	}
	return errs, status
}

func checkNoSession(t *testing.T, d *desk, o *tickets.OTC) {
	t.Helper()
	if c := credential(t, d.g, o); c.State != tickets.CredentialIssued || !c.Used.IsZero() {
		t.Fatalf("credential after the attack: %s (used %v), want issued and unused", c.State, c.Used)
	}
	if n := len(events(t, d.g, "credential.used")); n != 0 {
		t.Fatalf("%d credential.used events: a session started", n)
	}
	for _, e := range events(t, d.g, "auth.accepted") {
		if e.Attrs["user"] == protocol.OTCUser(o.Request) {
			t.Fatalf("a one-time login was accepted: %+v", e)
		}
	}
	if n := len(d.consent.Asks()); n != 0 {
		t.Fatalf("the person was asked %d times", n)
	}
}

func TestCVE202445337OneTimeCredential(t *testing.T) {
	d := newDesk(t, protocol.GrantView, nil)
	o := d.g.IssueOTC(t, d.alice, d.agent.Code())
	cred, err := o.Signer()
	if err != nil {
		t.Fatal(err)
	}
	user := protocol.OTCUser(o.Request)
	t.Run("x/crypto client, forged signature", func(t *testing.T) {
		_, err := offeredThenAuthenticated(t, d.g, user, cred.PublicKey(), d.alice.Signer)
		if err == nil {
			t.Fatal("login with a credential the client does not hold was accepted")
		}
		waitLog(t, d.g.AuthLog, `(?m)^Failed publickey for `+regexp.QuoteMeta(user)+` from 127\.0\.0\.1 port \d+ ssh2$`)
		waitEvent(t, d.g, "auth.failed", map[string]string{"user": user, "reason": "signature did not verify"})
	})
	t.Run("OpenSSH, offered then another key", func(t *testing.T) {
		stranger, strangerFile := testenv.NewKeyFile(t, t.TempDir(), "stranger")
		errs, status := openSSHOffering(t, d.g, user, cred.PublicKey(), strangerFile)
		if status != 255 || !strings.Contains(errs, "Permission denied") {
			t.Fatalf("ssh offering the credential's public key: exit %d, %q; want 255, permission denied", status, errs)
		}
		waitLog(t, d.g.AuthLog, `Failed publickey for `+regexp.QuoteMeta(user)+` from 127\.0\.0\.1 port \d+ ssh2: ED25519 `+regexp.QuoteMeta(ssh.FingerprintSHA256(stranger.PublicKey())))
	})
	checkNoSession(t, d, o)
	// The real holder still gets in afterwards.
	s, err := dialOTC(t, o)
	if err != nil {
		t.Fatalf("the credential's holder after the attack: %v", err)
	}
	s.Close()
}

func TestCVE202445337Technician(t *testing.T) {
	g := testenv.StartGateway(t, testenv.Options{})
	alice := g.AddTechnician(t, "alice", true)
	_, err := offeredThenAuthenticated(t, g, "alice", alice.Signer.PublicKey(), testenv.NewKey(t))
	if err == nil {
		t.Fatal("alice's public key without her private key was accepted")
	}
	waitLog(t, g.AuthLog, `(?m)^Failed publickey for alice from 127\.0\.0\.1 port \d+ ssh2$`)
	_, strangerFile := testenv.NewKeyFile(t, t.TempDir(), "stranger")
	errs, status := openSSHOffering(t, g, "alice", alice.Signer.PublicKey(), strangerFile)
	if status != 255 || !strings.Contains(errs, "Permission denied") {
		t.Fatalf("ssh offering alice's public key: exit %d, %q", status, errs)
	}
	waitLog(t, g.AuthLog, `Failed publickey for alice from 127\.0\.0\.1 port \d+ ssh2: ED25519 `)
	if n := len(events(t, g, "auth.accepted")); n != 0 {
		t.Fatalf("%d auth.accepted events", n)
	}
}

// TestCVE202445337AgentKey: agents may log in with any key, so the attacker's login succeeds —
// but as the attacker's key. Offering the victim agent's public key first must not bind the
// connection to the victim's key, whose request it would then resume.
func TestCVE202445337AgentKey(t *testing.T) {
	g := testenv.StartGateway(t, testenv.Options{})
	victim := g.StartAgent(t, testenv.AgentOptions{})
	victimFP := ssh.FingerprintSHA256(victim.Key.PublicKey())

	_, err := offeredThenAuthenticated(t, g, protocol.AgentUser, victim.Key.PublicKey(), testenv.NewKey(t))
	if err == nil {
		t.Fatal("agent login with a forged signature for the victim's key was accepted")
	}
	waitLog(t, g.AuthLog, `(?m)^Failed publickey for assist-agent from 127\.0\.0\.1 port \d+ ssh2$`)

	attacker, attackerFile := testenv.NewKeyFile(t, t.TempDir(), "attacker")
	attackerFP := ssh.FingerprintSHA256(attacker.PublicKey())
	if _, status := openSSHOffering(t, g, protocol.AgentUser, victim.Key.PublicKey(), attackerFile); status == 0 {
		t.Fatal("ssh as an agent ran a command")
	}
	waitLog(t, g.AuthLog, `Accepted publickey for assist-agent from 127\.0\.0\.1 port \d+ ssh2: ED25519 `+regexp.QuoteMeta(attackerFP))
	waitEvent(t, g, "auth.accepted", map[string]string{"user": protocol.AgentUser, "key": attackerFP})
	n := 0
	for _, e := range events(t, g, "auth.accepted") {
		if e.Attrs["key"] == victimFP {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d logins accepted with the victim's key, want only the victim's own", n)
	}
	waitRefused(t, g, protocol.AgentUser, "channel session")
	v, _ := g.Store.Request(victim.Code())
	if v.AgentKey != victimFP || v.FullName != "Pat Person" {
		t.Fatalf("victim's request changed: %+v", v)
	}
}
