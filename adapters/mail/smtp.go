package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/textproto"
	"net/url"
	"strconv"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/lenticular/lenticular/modules/notify"
)

var _ notify.Sender = (*SMTPSender)(nil)

// smtpTimeout bounds connecting and every command of one delivery.
const smtpTimeout = 10 * time.Second

// SMTPSender delivers through an SMTP server (MAILER=smtp) described by
// SMTP_URL:
//
//	smtp://user:pass@host:587   STARTTLS, required (default port 587): a server
//	                            that does not offer it, or whose certificate does
//	                            not verify, gets nothing, not even the password
//	smtps://user:pass@host:465  TLS from the first byte (default port 465)
//	smtp://host:1025?tls=none   no TLS at all, for a local catcher such as
//	                            Mailpit in development; refused with a user or
//	                            password, which would cross the network in clear
//
// User and password are percent-decoded; without them there is no AUTH. Each
// Send opens one connection, bounded by a 10 s timeout per step.
//
// Errors: an SMTP 5xx reply (address or credentials refused) and a message
// with an unusable address wrap notify.ErrPermanent; a 4xx reply, a network or
// TLS failure, or a server without STARTTLS are retryable. No error holds the
// password.
type SMTPSender struct {
	host        string
	port        int
	implicitTLS bool
	noTLS       bool
	username    string
	password    string
	tlsConfig   *tls.Config
	timeout     time.Duration
	now         func() time.Time
}

// SMTPOption adjusts an SMTPSender.
type SMTPOption func(*SMTPSender)

// WithTLSConfig sets the TLS configuration used for STARTTLS and smtps, for
// example to trust a private certificate authority through RootCAs. Its
// ServerName defaults to the host of the URL. Certificates are always
// verified.
func WithTLSConfig(c *tls.Config) SMTPOption {
	return func(s *SMTPSender) {
		if c != nil {
			s.tlsConfig = c.Clone()
		}
	}
}

// NewSMTPSender parses rawURL (see SMTPSender) and returns a sender for it.
// Its errors never repeat the URL, which holds the password.
func NewSMTPSender(rawURL string, opts ...SMTPOption) (*SMTPSender, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, errors.New("not a valid URL (want smtp://user:pass@host:587, smtps://user:pass@host:465 or smtp://host:1025?tls=none)")
	}
	s := &SMTPSender{timeout: smtpTimeout, now: time.Now}
	switch u.Scheme {
	case "smtp":
		s.port = 587
	case "smtps":
		s.implicitTLS = true
		s.port = 465
	default:
		return nil, fmt.Errorf("scheme %q is not smtp or smtps", u.Scheme)
	}
	if u.Opaque != "" || u.Hostname() == "" {
		return nil, errors.New("has no host (want smtp://user:pass@host:587)")
	}
	s.host = u.Hostname()
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("port %q is not a number from 1 to 65535", p)
		}
		s.port = n
	}
	if u.Path != "" && u.Path != "/" {
		return nil, errors.New("must not have a path")
	}
	if u.Fragment != "" {
		return nil, errors.New("must not have a fragment")
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return nil, errors.New("has a malformed query")
	}
	for k, v := range q {
		switch {
		case k == "tls" && len(v) == 1 && v[0] == "none" && !s.implicitTLS:
			s.noTLS = true
		case k == "tls" && len(v) == 1 && v[0] == "starttls" && !s.implicitTLS:
		case k == "tls":
			return nil, errors.New("tls must be none or starttls, and only with smtp://")
		default:
			return nil, fmt.Errorf("unknown parameter %q (only tls is understood)", k)
		}
	}
	if u.User != nil {
		s.username = u.User.Username()
		s.password, _ = u.User.Password()
		if s.username == "" && s.password != "" {
			return nil, errors.New("has a password but no user")
		}
	}
	if s.noTLS && (s.username != "" || s.password != "") {
		return nil, errors.New("tls=none with a user or password would send them in clear; drop them or use TLS")
	}
	for _, o := range opts {
		o(s)
	}
	if s.tlsConfig == nil {
		s.tlsConfig = &tls.Config{}
	}
	if s.tlsConfig.ServerName == "" {
		s.tlsConfig.ServerName = s.host
	}
	if s.tlsConfig.MinVersion < tls.VersionTLS12 {
		s.tlsConfig.MinVersion = tls.VersionTLS12
	}
	return s, nil
}

// Send delivers m over one new connection.
func (s *SMTPSender) Send(ctx context.Context, m notify.Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	msg, err := newMsg(m, s.now())
	if err != nil {
		return err
	}
	opts := []gomail.Option{
		gomail.WithTimeout(s.timeout),
		gomail.WithTLSConfig(s.tlsConfig.Clone()),
	}
	switch {
	case s.implicitTLS:
		opts = append(opts, gomail.WithSSL())
	case s.noTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	}
	if s.username != "" {
		opts = append(opts,
			gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(s.username),
			gomail.WithPassword(s.password))
	}
	// Last, so no option above can move it.
	opts = append(opts, gomail.WithPort(s.port))

	client, err := gomail.NewClient(s.host, opts...)
	if err != nil {
		return fmt.Errorf("smtp: configure client: %s", redact(err.Error(), s.password))
	}
	if err := client.DialAndSendWithContext(ctx, msg); err != nil {
		return s.classify(err)
	}
	return nil
}

// classify turns a go-mail error into a deliveryError: permanent for a 5xx
// reply or a message the server can never take, retryable otherwise.
func (s *SMTPSender) classify(err error) error {
	permanent := false
	var sendErr *gomail.SendError
	var protoErr *textproto.Error
	switch {
	case errors.As(err, &sendErr) && sendErr.ErrorCode() >= 400:
		permanent = sendErr.ErrorCode() >= 500
	case errors.As(err, &sendErr) && (sendErr.Reason == gomail.ErrGetSender ||
		sendErr.Reason == gomail.ErrGetRcpts || sendErr.Reason == gomail.ErrNoUnencoded):
		permanent = true
	case errors.As(err, &protoErr):
		// A reply outside a message transaction: EHLO, STARTTLS, AUTH.
		permanent = protoErr.Code >= 500
	}
	verb := "failed"
	if permanent {
		verb = "refused permanently"
	}
	addr := net.JoinHostPort(s.host, strconv.Itoa(s.port))
	return &deliveryError{
		msg:       fmt.Sprintf("smtp: delivery via %s %s: %s", addr, verb, redact(err.Error(), s.password)),
		permanent: permanent,
		cause:     err,
	}
}
