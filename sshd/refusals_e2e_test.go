package sshd_test

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/assistkit/assist/internal/harness/testenv"
	"github.com/assistkit/assist/protocol"
	"github.com/assistkit/assist/tickets"
)

func TestUnknownUserRefusedAndLogged(t *testing.T) {
	g := testenv.StartGateway(t, testenv.Options{})
	g.AddTechnician(t, "alice", false)
	key := testenv.NewKey(t)
	_, err := dialAs(t, g, "mallory", ssh.PublicKeys(key))
	refusedAuth(t, err, "unknown user mallory")
	waitLog(t, g.AuthLog, `(?m)^Invalid user mallory from 127\.0\.0\.1 port \d+$`)
	waitLog(t, g.AuthLog, `(?m)^Failed publickey for invalid user mallory from 127\.0\.0\.1 port \d+ ssh2: ED25519 `+regexp.QuoteMeta(ssh.FingerprintSHA256(key.PublicKey()))+`$`)
	waitEvent(t, g, "auth.failed", map[string]string{"user": "mallory", "reason": "no such user"})
}

func TestWrongKeyRefusedAndLogged(t *testing.T) {
	g := testenv.StartGateway(t, testenv.Options{})
	g.AddTechnician(t, "alice", false)
	_, err := dialAs(t, g, "alice", ssh.PublicKeys(testenv.NewKey(t)))
	refusedAuth(t, err, "alice with another key")
	waitLog(t, g.AuthLog, `(?m)^Failed publickey for alice from 127\.0\.0\.1 port \d+ ssh2: ED25519 SHA256:\S+$`)
	if strings.Contains(g.AuthLog.String(), "Accepted") {
		t.Fatalf("auth log shows an acceptance:\n%s", g.AuthLog)
	}
	waitEvent(t, g, "auth.failed", map[string]string{"user": "alice", "reason": "key not authorized for this user"})
}

// TestAgentCannotRunTechnicianCommands logs in as an agent and tries what technicians do.
func TestAgentCannotRunTechnicianCommands(t *testing.T) {
	g := testenv.StartGateway(t, testenv.Options{})
	c := mustDial(t, g, protocol.AgentUser, testenv.NewKey(t))
	sess, err := c.NewSession()
	if err == nil {
		out, _ := sess.CombinedOutput("request list --json")
		t.Fatalf("an agent opened a session channel and ran a command: %q", out)
	}
	var oce *ssh.OpenChannelError
	if !errors.As(err, &oce) || oce.Reason != ssh.Prohibited {
		t.Fatalf("session channel for an agent: %v, want rejected as prohibited", err)
	}
	waitRefused(t, g, protocol.AgentUser, "channel session")

	if ok, _, err := c.SendRequest("tcpip-forward", true, ssh.Marshal(struct {
		Addr string
		Port uint32
	}{"127.0.0.1", 0})); ok || err != nil {
		t.Fatalf("tcpip-forward from an agent: ok=%v err=%v, want refused", ok, err)
	}
	waitRefused(t, g, protocol.AgentUser, "request tcpip-forward")
}

// TestTechnicianCannotFileRequest sends the agents' request@ global request with a technician's
// login.
func TestTechnicianCannotFileRequest(t *testing.T) {
	g := testenv.StartGateway(t, testenv.Options{})
	alice := g.AddTechnician(t, "alice", true)
	c := mustDial(t, g, "alice", alice.Signer)
	ok, _, err := c.SendRequest(protocol.RequestGlobal, true, tickets.EncodeForm(tickets.Form{FullName: "Sneaky Tech"}))
	if ok || err != nil {
		t.Fatalf("technician filing a request: ok=%v err=%v, want refused", ok, err)
	}
	waitRefused(t, g, "alice", "request "+protocol.RequestGlobal)
	page, err := g.Store.Requests(tickets.RequestQuery{Closed: true})
	reqs := page.Requests
	if err != nil || len(reqs) != 0 {
		t.Fatalf("store holds %v (%v) after a technician's request@, want nothing", reqs, err)
	}
}

// TestTechnicianRefusals: shell, pty, forwarding both ways, unknown channels and global
// requests are each refused with a log line and an audit event.
func TestTechnicianRefusals(t *testing.T) {
	g := testenv.StartGateway(t, testenv.Options{})
	alice := g.AddTechnician(t, "alice", false)
	c := mustDial(t, g, "alice", alice.Signer)

	t.Run("shell", func(t *testing.T) {
		wantFailed(t, c, "shell", nil, "no shell here")
		waitRefused(t, g, "alice", "request shell")
	})
	t.Run("pty", func(t *testing.T) {
		sess, err := c.NewSession()
		if err != nil {
			t.Fatal(err)
		}
		defer sess.Close()
		if err := sess.RequestPty("xterm", 24, 80, ssh.TerminalModes{}); err == nil {
			t.Fatal("pty-req accepted")
		}
		waitRefused(t, g, "alice", "request pty-req")
		// The channel still runs a command after the refused pty.
		out, err := sess.Output("whoami")
		if err != nil || strings.TrimSpace(string(out)) != "alice (technician)" {
			t.Fatalf("whoami after a refused pty: %q, %v", out, err)
		}
	})
	t.Run("subsystem", func(t *testing.T) {
		wantFailed(t, c, "subsystem", command("sftp"), "no shell here")
		waitRefused(t, g, "alice", "request subsystem")
	})
	t.Run("direct-tcpip", func(t *testing.T) {
		conn, err := c.Dial("tcp", g.Addr)
		if err == nil {
			conn.Close()
			t.Fatal("direct-tcpip accepted")
		}
		var oce *ssh.OpenChannelError
		if !errors.As(err, &oce) || oce.Reason != ssh.Prohibited {
			t.Fatalf("direct-tcpip: %v, want prohibited", err)
		}
		waitRefused(t, g, "alice", "channel direct-tcpip")
	})
	t.Run("tcpip-forward", func(t *testing.T) {
		l, err := c.Listen("tcp", "127.0.0.1:0")
		if err == nil {
			l.Close()
			t.Fatal("tcpip-forward accepted")
		}
		waitRefused(t, g, "alice", "request tcpip-forward")
	})
	t.Run("unknown channel", func(t *testing.T) {
		_, _, err := c.OpenChannel("x11", nil)
		if err == nil {
			t.Fatal("x11 channel accepted")
		}
		waitRefused(t, g, "alice", "channel x11")
	})
	t.Run("desktop channel without otc", func(t *testing.T) {
		for _, typ := range []string{"framebuffer@assist.dev", "input@assist.dev", protocol.SessionChannel} {
			if _, _, err := c.OpenChannel(typ, ssh.Marshal(protocol.ChannelRef{SessionID: "guess"})); err == nil {
				t.Fatalf("%s opened on a technician login", typ)
			}
			waitRefused(t, g, "alice", "channel "+typ)
		}
	})
	t.Run("unknown global request", func(t *testing.T) {
		ok, _, err := c.SendRequest("no-more-sessions@openssh.com-ish", true, nil)
		if ok || err != nil {
			t.Fatalf("unknown global request: ok=%v err=%v", ok, err)
		}
		waitRefused(t, g, "alice", "request no-more-sessions@openssh.com-ish")
	})
	// After all that the connection still works: refusals do not drop a technician.
	sess, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	if out, err := sess.Output("whoami"); err != nil || !strings.HasPrefix(string(out), "alice") {
		t.Fatalf("whoami after refusals: %q, %v", out, err)
	}
}

// TestOpenSSHShellRefused: plain ssh with no command asks for a pty and a shell; it gets a
// message saying how to run a command, and a non-zero exit.
func TestOpenSSHShellRefused(t *testing.T) {
	g := testenv.StartGateway(t, testenv.Options{})
	alice := g.AddTechnician(t, "alice", false)
	_, errs, status := openSSH(t, g, alice)
	if status == 0 || !strings.Contains(errs, "no shell here") {
		t.Fatalf("ssh without a command: exit %d, stderr %q; want failure and a hint", status, errs)
	}
	waitRefused(t, g, "alice", "request shell")
}
