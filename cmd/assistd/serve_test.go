package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/assistkit/assist/internal/cli"
	"github.com/assistkit/assist/internal/harness/fail2ban"
	"github.com/assistkit/assist/internal/harness/testenv"
	"github.com/assistkit/assist/tickets"
)

const webPassword = "a web password for alice"

// initData makes a data directory with admin alice, a web password, and one filed request.
func initData(t *testing.T) (dir, code string) {
	t.Helper()
	dir = filepath.Join(t.TempDir(), "data")
	d := dataDir(dir)
	store, err := d.create()
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if err := store.AddUser(tickets.User{Name: "alice", Admin: true}); err != nil {
		t.Fatal(err)
	}
	hash, err := tickets.HashPassword(webPassword)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.UpdateUser("alice", func(u *tickets.User) error { u.PasswordHash = hash; return nil }); err != nil {
		t.Fatal(err)
	}
	r, err := store.CreateRequest(tickets.Request{Form: tickets.Form{FullName: "Pat Person"}})
	if err != nil {
		t.Fatal(err)
	}
	return dir, r.Code
}

type served struct {
	ssh, web net.Addr
	done     chan error
	stop     context.CancelFunc
	logs     *testenv.SyncBuffer
}

// serve runs runServe until the test ends (or stop is called).
func serve(t *testing.T, o serveOptions) *served {
	t.Helper()
	s := &served{done: make(chan error, 1), logs: &testenv.SyncBuffer{}}
	sshc, webc := make(chan net.Addr, 1), make(chan net.Addr, 1)
	o.ready = func(a net.Addr) { sshc <- a }
	o.httpReady = func(a net.Addr) { webc <- a }
	ctx, cancel := context.WithCancel(context.Background())
	s.stop = cancel
	go func() { s.done <- runServe(ctx, o, s.logs) }()
	t.Cleanup(func() { cancel(); <-s.done })
	for s.ssh == nil || (s.web == nil && o.httpAddr != "") {
		select {
		case s.ssh = <-sshc:
		case s.web = <-webc:
		case err := <-s.done:
			t.Fatalf("serve ended at start: %v\n%s", err, s.logs)
		case <-time.After(30 * time.Second):
			t.Fatal("serve did not start in 30s")
		}
	}
	return s
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// signIn signs alice in through the web screen and returns the client and a page's CSRF token.
func signIn(t *testing.T, hc *http.Client, base string) string {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	hc.Jar = jar
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	token := csrfOf(t, hc, base+"/signin")
	res, err := hc.PostForm(base+"/signin", url.Values{"csrf": {token}, "user": {"alice"}, "password": {webPassword}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/requests" {
		t.Fatalf("sign in: %s → %q", res.Status, res.Header.Get("Location"))
	}
	return csrfOf(t, hc, base+"/requests")
}

func csrfOf(t *testing.T, hc *http.Client, page string) string {
	t.Helper()
	res, err := hc.Get(page)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	m := csrfField.FindSubmatch(body)
	if res.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("GET %s: %s, no form:\n%s", page, res.Status, body)
	}
	return string(m[1])
}

func TestServeRunsTheWebScreenBesideTheGateway(t *testing.T) {
	dir, code := initData(t)
	downloads := t.TempDir()
	os.WriteFile(filepath.Join(downloads, "assist-linux-amd64"), []byte("binary"), 0o755)
	// SSH on every interface: the .otc names the address the browser reached, with the SSH port.
	s := serve(t, serveOptions{data: dir, sshAddr: "0.0.0.0:0", httpAddr: "127.0.0.1:0", downloads: downloads, logFormat: "text"})
	base := "http://" + s.web.String()
	hc := &http.Client{}
	token := signIn(t, hc, base)

	res, err := hc.PostForm(base+"/requests/"+code+"/otc", url.Values{"csrf": {token}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	o, err := tickets.ParseOTC(body)
	if err != nil {
		t.Fatalf("Open Connection: %s: %v\n%s", res.Status, err, body)
	}
	_, sshPort, _ := net.SplitHostPort(s.ssh.String())
	if want := net.JoinHostPort("127.0.0.1", sshPort); len(o.Gateways) != 1 || o.Gateways[0] != want {
		t.Errorf("otc gateways %v, want [%s]", o.Gateways, want)
	}
	if res, err := hc.Get(base + "/download/assist-linux-amd64"); err != nil || res.StatusCode != http.StatusOK {
		t.Errorf("download: %v %v", res.Status, err)
	}

	// SIGINT (a cancelled context) stops both servers and runServe returns cleanly.
	s.stop()
	select {
	case err := <-s.done:
		s.done <- err // for the cleanup
		if err != nil {
			t.Fatalf("serve after stop: %v\n%s", err, s.logs)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop in 20s")
	}
	for _, a := range []net.Addr{s.ssh, s.web} {
		if c, err := net.DialTimeout("tcp", a.String(), time.Second); err == nil {
			c.Close()
			t.Errorf("%s still accepts after shutdown", a)
		}
	}
	if logs := s.logs.String(); !strings.Contains(logs, "help-desk web screen listening") || !strings.Contains(logs, "web sign-in accepted") {
		t.Errorf("logs:\n%s", logs)
	}
}

func TestServeWebOverTLS(t *testing.T) {
	dir, _ := initData(t)
	certFile, keyFile, pool := selfSigned(t)
	s := serve(t, serveOptions{data: dir, sshAddr: "127.0.0.1:0", httpAddr: "127.0.0.1:0", tlsCert: certFile, tlsKey: keyFile, logFormat: "text"})
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	base := "https://" + s.web.String()
	signIn(t, hc, base)
	u, _ := url.Parse(base)
	var found bool
	for _, c := range hc.Jar.Cookies(u) {
		found = found || c.Name == "__Host-assist-session"
	}
	if !found {
		t.Errorf("no __Host-assist-session cookie over TLS: %v", hc.Jar.Cookies(u))
	}
	res, err := hc.Get(base + "/requests")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.Header.Get("Strict-Transport-Security") == "" {
		t.Error("no HSTS over TLS")
	}
}

func TestServeWithoutWebAndBadWebFlags(t *testing.T) {
	dir, _ := initData(t)
	serve(t, serveOptions{data: dir, sshAddr: "127.0.0.1:0", httpAddr: "", logFormat: "text"})
	for name, o := range map[string]serveOptions{
		"cert without key":    {tlsCert: "cert.pem", httpAddr: "127.0.0.1:0"},
		"tls without web":     {tlsCert: "c", tlsKey: "k"},
		"downloads not a dir": {downloads: filepath.Join(dir, "assist.db"), httpAddr: "127.0.0.1:0"},
		"bad trusted proxy":   {proxies: []string{"proxy.example"}, httpAddr: "127.0.0.1:0"},
		"proxy without web":   {proxies: []string{"127.0.0.1"}},
	} {
		o.data, o.sshAddr, o.logFormat = dir, "127.0.0.1:0", "text"
		err := runServe(context.Background(), o, io.Discard)
		var usage *cli.Usage
		var hinted *cli.Hinted
		if err == nil || !(errors.As(err, &usage) || errors.As(err, &hinted)) {
			t.Errorf("%s: %v, want a usage error or a hint", name, err)
		}
	}
}

// selfSigned writes a certificate for 127.0.0.1 and its key, and returns a pool trusting it.
func selfSigned(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "assistd test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	var cb, kb bytes.Buffer
	pem.Encode(&cb, &pem.Block{Type: "CERTIFICATE", Bytes: der})
	pem.Encode(&kb, &pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
	if err := os.WriteFile(certFile, cb.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, kb.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile, pool
}

// TestServeWebFailuresReachAuthLogThroughTrustedProxy: assistd serve with --auth-log and
// --trusted-proxy writes a failed web sign-in, under the address the proxy names, to the auth
// log file, where the shipped fail2ban filter counts it; the right password is accepted.
func TestServeWebFailuresReachAuthLogThroughTrustedProxy(t *testing.T) {
	dir, _ := initData(t)
	authLog := filepath.Join(t.TempDir(), "auth.log")
	s := serve(t, serveOptions{data: dir, sshAddr: "127.0.0.1:0", httpAddr: "127.0.0.1:0", logFormat: "text",
		authLog: authLog, proxies: []string{"127.0.0.0/8"}})
	base := "http://" + s.web.String()
	hc := &http.Client{}
	jar, _ := cookiejar.New(nil)
	hc.Jar = jar
	post := func(from, password string) int {
		req, _ := http.NewRequest(http.MethodPost, base+"/signin", strings.NewReader(url.Values{
			"csrf": {csrfOf(t, hc, base+"/signin")}, "user": {"alice"}, "password": {password}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Forwarded-For", from)
		hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		res, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if code := post("198.51.100.7", "a guess"); code != http.StatusUnauthorized {
		t.Fatalf("wrong password: %d", code)
	}
	if code := post("192.0.2.10", webPassword); code != http.StatusSeeOther {
		t.Fatalf("right password: %d", code)
	}
	log, err := os.ReadFile(authLog)
	if err != nil {
		t.Fatal(err)
	}
	for _, re := range []string{
		`(?m)^\w{3} [ \d]\d \d\d:\d\d:\d\d \S+ assistd\[\d+\]: Failed web password for alice from 198\.51\.100\.7 port 0$`,
		`(?m)^\w{3} [ \d]\d \d\d:\d\d:\d\d \S+ assistd\[\d+\]: Accepted web password for alice from 192\.0\.2\.10 port 0$`,
	} {
		if !regexp.MustCompile(re).Match(log) {
			t.Errorf("auth log lacks %s:\n%s", re, log)
		}
	}
	got := fail2ban.Regex(t, authLog, testenv.RepoFile(t, "scripts/fail2ban/filter.d/assistd-web.conf"))
	if len(got) != 1 || got[0].IP != "198.51.100.7" {
		t.Errorf("fail2ban would count %+v, want the one failure from 198.51.100.7", got)
	}
}
