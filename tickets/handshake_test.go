package tickets

import (
	"bytes"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// TestClientConnNamesWhatAnswered: pointed at a web server instead of the gateway's SSH port,
// the handshake says what answered. (Go's TLS server closes without a word, like a gateway
// refusing a connection, so HTTPS cannot be told apart that way.)
func TestClientConnNamesWhatAnswered(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	for _, c := range []struct {
		name string
		srv  *httptest.Server
		want string
	}{
		{"http", httptest.NewServer(h), "an HTTP server"},
	} {
		t.Run(c.name, func(t *testing.T) {
			defer c.srv.Close()
			addr := c.srv.Listener.Addr().String()
			nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			nc.SetDeadline(time.Now().Add(10 * time.Second))
			_, _, _, err = ClientConn(nc, addr, &ssh.ClientConfig{User: "alice", HostKeyCallback: ssh.InsecureIgnoreHostKey()})
			var ns *NotSSHError
			if !errors.As(err, &ns) || ns.What != c.want {
				t.Fatalf("handshake with an %s server: %v; want a NotSSHError naming %s", c.name, err, c.want)
			}
		})
	}
}

// A gateway too busy to finish its version line before the client's deadline is busy, not
// another kind of server: the error must not be a NotSSHError, which stops an agent for good.
func TestClientConnHalfAVersionLineIsNotAnotherServer(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	release := make(chan struct{})
	defer close(release)
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		c.Write([]byte("SS"))
		<-release
	}()
	nc, err := net.DialTimeout("tcp", l.Addr().String(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(300 * time.Millisecond))
	_, _, _, err = ClientConn(nc, l.Addr().String(), &ssh.ClientConfig{User: "alice", HostKeyCallback: ssh.InsecureIgnoreHostKey()})
	var ns *NotSSHError
	if err == nil || errors.As(err, &ns) {
		t.Fatalf("handshake with a server stalled after \"SS\": %v; want a plain timeout, not a NotSSHError", err)
	}
}

func TestNotSSH(t *testing.T) {
	for in, want := range map[string]string{
		"":                         "",
		"SSH-2.0-assistd\r\n":      "",
		"S":                        "",
		"SSH":                      "",
		"SSX":                      "a server that does not speak SSH",
		"HTTP/1.1 400 Bad Req":     "an HTTP server",
		"\x15\x03\x01\x00\x02\x02": "a TLS (HTTPS) server",
		"220 smtp.example.org":     "a server that does not speak SSH",
	} {
		if got := notSSH([]byte(in)); got != want {
			t.Errorf("notSSH(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzNotSSH: any first bytes are named, and an SSH version line never is.
func FuzzNotSSH(f *testing.F) {
	for _, s := range []string{"", "SSH-2.0-assistd\r\n", "HTTP/1.1 400 Bad Request\r\n", "\x15\x03\x01\x00\x02\x02\x46", "220 smtp"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, first []byte) {
		got := notSSH(first)
		if ssh := bytes.HasPrefix(first, []byte("SSH-")) || bytes.HasPrefix([]byte("SSH-"), first); ssh != (got == "") {
			t.Fatalf("notSSH(%q) = %q", first, got)
		}
	})
}
