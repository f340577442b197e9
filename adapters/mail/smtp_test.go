package mail

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/lenticular/lenticular/modules/notify"
)

const (
	smtpUser = "mailer@lenticular.example"
	smtpPass = "s3cret-P@ss:word/%"
)

func isPermanent(err error) bool { return errors.Is(err, notify.ErrPermanent) }

// testCert is a self-signed certificate for 127.0.0.1, made once per run.
var testCert = sync.OnceValues(func() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "lenticular test SMTP"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, nil
})

func serverTLS(t *testing.T) *tls.Config {
	t.Helper()
	cert, err := testCert()
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
}

// trustTestCert is the option a test sender uses to trust the test server.
func trustTestCert(t *testing.T) SMTPOption {
	t.Helper()
	cert, err := testCert()
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert.Leaf)
	return WithTLSConfig(&tls.Config{RootCAs: pool})
}

// received is one message the test server accepted.
type received struct {
	from   string
	to     []string
	data   []byte
	tls    bool
	authed string // user name, "" without AUTH
}

// backend is a go-smtp backend that records what it receives and can be told
// to require AUTH or to refuse a command.
type backend struct {
	requireAuth bool
	rcptErr     error // returned by RCPT TO
	dataErr     error // returned after DATA

	mu           sync.Mutex
	messages     []received
	authAttempts int
}

func (b *backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &session{b: b, conn: c}, nil
}

func (b *backend) received() []received {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]received(nil), b.messages...)
}

type session struct {
	b      *backend
	conn   *smtp.Conn
	authed string
	from   string
	to     []string
}

var _ smtp.AuthSession = (*session)(nil)

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, username, password string) error {
		s.b.mu.Lock()
		s.b.authAttempts++
		s.b.mu.Unlock()
		if username != smtpUser || password != smtpPass {
			return smtp.ErrAuthFailed
		}
		s.authed = username
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if s.b.requireAuth && s.authed == "" {
		return smtp.ErrAuthRequired
	}
	s.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if s.b.rcptErr != nil {
		return s.b.rcptErr
	}
	s.to = append(s.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if s.b.dataErr != nil {
		return s.b.dataErr
	}
	_, isTLS := s.conn.TLSConnectionState()
	s.b.mu.Lock()
	s.b.messages = append(s.b.messages, received{from: s.from, to: s.to, data: data, tls: isTLS, authed: s.authed})
	s.b.mu.Unlock()
	return nil
}

func (s *session) Reset()        { s.from, s.to = "", nil }
func (s *session) Logout() error { return nil }

// serverMode says how the test server speaks TLS.
type serverMode int

const (
	starttls serverMode = iota // plain connection offering STARTTLS
	plain                      // no TLS at all: STARTTLS is not offered
	implicit                   // TLS from the first byte (smtps)
)

// startSMTP runs a go-smtp server on 127.0.0.1:0 and returns its address.
func startSMTP(t *testing.T, b *backend, mode serverMode) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := smtp.NewServer(b)
	srv.Domain = "localhost"
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	switch mode {
	case starttls:
		srv.TLSConfig = serverTLS(t)
	case implicit:
		l = tls.NewListener(l, serverTLS(t))
	}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return l.Addr().String()
}

func smtpURL(scheme, addr string, withUser bool, query string) string {
	u := url.URL{Scheme: scheme, Host: addr, RawQuery: query}
	if withUser {
		u.User = url.UserPassword(smtpUser, smtpPass)
	}
	return u.String()
}

func newTestSMTP(t *testing.T, rawURL string, opts ...SMTPOption) *SMTPSender {
	t.Helper()
	s, err := NewSMTPSender(rawURL, opts...)
	if err != nil {
		t.Fatalf("NewSMTPSender: %v", err)
	}
	return s
}

func TestSMTPSendsOverSTARTTLSWithAuth(t *testing.T) {
	t.Parallel()
	b := &backend{requireAuth: true}
	addr := startSMTP(t, b, starttls)
	s := newTestSMTP(t, smtpURL("smtp", addr, true, ""), trustTestCert(t))

	m := testMessage("job-7")
	if err := s.Send(context.Background(), m); err != nil {
		t.Fatalf("Send: %v", err)
	}
	got := b.received()
	if len(got) != 1 {
		t.Fatalf("server received %d messages, want 1", len(got))
	}
	r := got[0]
	if !r.tls {
		t.Error("message was not sent over TLS")
	}
	if r.authed != smtpUser {
		t.Errorf("AUTH user = %q, want %q", r.authed, smtpUser)
	}
	if r.from != "no-reply@lenticular.example" || len(r.to) != 1 || r.to[0] != "ada@example.com" {
		t.Errorf("envelope = %q -> %q", r.from, r.to)
	}
	checkSameMessage(t, parseEML(t, r.data), m)
}

func TestSMTPImplicitTLS(t *testing.T) {
	t.Parallel()
	b := &backend{requireAuth: true}
	addr := startSMTP(t, b, implicit)
	s := newTestSMTP(t, smtpURL("smtps", addr, true, ""), trustTestCert(t))
	if err := s.Send(context.Background(), testMessage("job-8")); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if got := b.received(); len(got) != 1 || !got[0].tls || got[0].authed != smtpUser {
		t.Fatalf("received %+v, want one message over TLS with AUTH", got)
	}
}

func TestSMTPRefusesServerWithoutSTARTTLS(t *testing.T) {
	t.Parallel()
	for _, withUser := range []bool{false, true} {
		b := &backend{}
		addr := startSMTP(t, b, plain)
		s := newTestSMTP(t, smtpURL("smtp", addr, withUser, ""), trustTestCert(t))
		err := s.Send(context.Background(), testMessage("job-9"))
		if err == nil {
			t.Fatalf("withUser=%v: Send succeeded over a connection without TLS", withUser)
		}
		if !strings.Contains(err.Error(), "STARTTLS") {
			t.Errorf("error %q does not say STARTTLS is missing", err)
		}
		if isPermanent(err) {
			t.Errorf("missing STARTTLS should be retryable: %v", err)
		}
		if n := len(b.received()); n != 0 {
			t.Errorf("server received %d messages in clear", n)
		}
		b.mu.Lock()
		attempts := b.authAttempts
		b.mu.Unlock()
		if attempts != 0 {
			t.Errorf("credentials were offered over a connection without TLS")
		}
	}
}

func TestSMTPRefusesUntrustedCertificate(t *testing.T) {
	t.Parallel()
	b := &backend{}
	addr := startSMTP(t, b, starttls)
	s := newTestSMTP(t, smtpURL("smtp", addr, true, "")) // system roots only
	err := s.Send(context.Background(), testMessage("job-10"))
	if err == nil || len(b.received()) != 0 {
		t.Fatalf("Send to a server with a self-signed certificate: err = %v, received %d", err, len(b.received()))
	}
	if strings.Contains(err.Error(), smtpPass) {
		t.Errorf("error holds the password: %v", err)
	}
}

func TestSMTPWithoutTLSForLocalCatcher(t *testing.T) {
	t.Parallel()
	b := &backend{}
	addr := startSMTP(t, b, plain)
	s := newTestSMTP(t, smtpURL("smtp", addr, false, "tls=none"))
	m := testMessage("job-11")
	if err := s.Send(context.Background(), m); err != nil {
		t.Fatalf("Send: %v", err)
	}
	got := b.received()
	if len(got) != 1 || got[0].tls || got[0].authed != "" {
		t.Fatalf("received %+v, want one message in clear without AUTH", got)
	}
	checkSameMessage(t, parseEML(t, got[0].data), m)
}

func TestSMTPErrorClasses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		backend   *backend
		password  string
		permanent bool
	}{
		{
			name:      "550 mailbox unavailable",
			backend:   &backend{rcptErr: &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such user"}},
			permanent: true,
		},
		{
			name:      "451 local error",
			backend:   &backend{dataErr: &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Try again later"}},
			permanent: false,
		},
		{
			name:      "452 at RCPT",
			backend:   &backend{rcptErr: &smtp.SMTPError{Code: 452, EnhancedCode: smtp.EnhancedCode{4, 2, 2}, Message: "Mailbox full"}},
			permanent: false,
		},
		{
			name:      "554 after DATA",
			backend:   &backend{dataErr: &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "Rejected as spam"}},
			permanent: true,
		},
		{
			name:      "535 wrong password",
			backend:   &backend{requireAuth: true},
			password:  "wrong-password-123",
			permanent: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			addr := startSMTP(t, tt.backend, starttls)
			raw := smtpURL("smtp", addr, true, "")
			if tt.password != "" {
				raw = (&url.URL{Scheme: "smtp", Host: addr, User: url.UserPassword(smtpUser, tt.password)}).String()
			}
			s := newTestSMTP(t, raw, trustTestCert(t))
			err := s.Send(context.Background(), testMessage("job-12"))
			if err == nil {
				t.Fatal("Send succeeded")
			}
			if got := isPermanent(err); got != tt.permanent {
				t.Errorf("permanent = %v, want %v (err: %v)", got, tt.permanent, err)
			}
			for _, secret := range []string{smtpPass, tt.password} {
				if secret != "" && strings.Contains(err.Error(), secret) {
					t.Errorf("error holds the password: %v", err)
				}
			}
			if n := len(tt.backend.received()); n != 0 {
				t.Errorf("server kept %d messages", n)
			}
		})
	}
}

func TestSMTPNetworkErrorIsRetryable(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close() // nothing listens there any more
	s := newTestSMTP(t, smtpURL("smtp", addr, true, ""))
	err = s.Send(context.Background(), testMessage("job-13"))
	if err == nil || isPermanent(err) {
		t.Fatalf("err = %v, want a retryable error", err)
	}
	if strings.Contains(err.Error(), smtpPass) {
		t.Errorf("error holds the password: %v", err)
	}
}

func TestSMTPBadAddressIsPermanent(t *testing.T) {
	t.Parallel()
	b := &backend{}
	addr := startSMTP(t, b, plain)
	s := newTestSMTP(t, smtpURL("smtp", addr, false, "tls=none"))
	m := testMessage("job-14")
	m.To = "not an address"
	if err := s.Send(context.Background(), m); !isPermanent(err) {
		t.Fatalf("err = %v, want permanent", err)
	}
}

func TestNewSMTPSenderParsesURL(t *testing.T) {
	t.Parallel()
	good := []struct {
		url               string
		host              string
		port              int
		implicit, noTLS   bool
		username, passwrd string
	}{
		{"smtp://user:pa%40ss@mail.example", "mail.example", 587, false, false, "user", "pa@ss"},
		{"smtp://user:pass@mail.example:2525/", "mail.example", 2525, false, false, "user", "pass"},
		{"smtps://user:pass@mail.example", "mail.example", 465, true, false, "user", "pass"},
		{"smtp://mailpit:1025?tls=none", "mailpit", 1025, false, true, "", ""},
		{"smtp://relay.internal?tls=starttls", "relay.internal", 587, false, false, "", ""},
		{"smtp://[::1]:25", "::1", 25, false, false, "", ""},
	}
	for _, tt := range good {
		s, err := NewSMTPSender(tt.url)
		if err != nil {
			t.Errorf("NewSMTPSender(%q): %v", tt.url, err)
			continue
		}
		if s.host != tt.host || s.port != tt.port || s.implicitTLS != tt.implicit || s.noTLS != tt.noTLS ||
			s.username != tt.username || s.password != tt.passwrd {
			t.Errorf("NewSMTPSender(%q) = %+v", tt.url, s)
		}
		if s.tlsConfig.ServerName != tt.host || s.tlsConfig.InsecureSkipVerify {
			t.Errorf("NewSMTPSender(%q): TLS config %+v", tt.url, s.tlsConfig)
		}
	}

	const secret = "hunter2-secret"
	bad := []string{
		"",
		"mail.example:587",
		"http://user:" + secret + "@mail.example",
		"smtp://user:" + secret + "@",
		"smtp://user:" + secret + "@mail.example:0",
		"smtp://user:" + secret + "@mail.example:99999",
		"smtp://user:" + secret + "@mail.example:port",
		"smtp://user:" + secret + "@mail.example/path",
		"smtp://user:" + secret + "@mail.example?tls=none",
		"smtp://:" + secret + "@mail.example",
		"smtps://user:" + secret + "@mail.example?tls=none",
		"smtp://user:" + secret + "@mail.example?tls=off",
		"smtp://user:" + secret + "@mail.example?tsl=none",
		"smtp://user:" + secret + "@mail example",
		"smtp://user:" + secret + "@mail.example#frag",
		"smtp:user:" + secret + "@mail.example",
	}
	for _, raw := range bad {
		_, err := NewSMTPSender(raw)
		if err == nil {
			t.Errorf("NewSMTPSender(%q) succeeded", raw)
			continue
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("NewSMTPSender(%q) error holds the password: %v", raw, err)
		}
	}
}

func TestSMTPCancelledContext(t *testing.T) {
	t.Parallel()
	s := newTestSMTP(t, "smtp://127.0.0.1:1?tls=none")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Send(ctx, testMessage("x")); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}
