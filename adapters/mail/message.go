package mail

import (
	"fmt"
	netmail "net/mail"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/lenticular/lenticular/modules/notify"
)

// newMsg builds the RFC 5322 message for m with go-mail: the file mailer and
// the SMTP sender both use it, so a .eml file holds exactly what SMTP would
// send. An address go-mail cannot parse is a permanent failure.
func newMsg(m notify.Message, date time.Time) (*gomail.Msg, error) {
	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	if err := msg.From(m.From); err != nil {
		return nil, &deliveryError{msg: fmt.Sprintf("invalid From address %q: %v", m.From, err), permanent: true, cause: err}
	}
	if err := msg.To(m.To); err != nil {
		return nil, &deliveryError{msg: fmt.Sprintf("invalid To address %q: %v", m.To, err), permanent: true, cause: err}
	}
	msg.Subject(m.Subject)
	msg.SetDateWithValue(date)
	if id := messageID(m); id != "" {
		msg.SetMessageIDWithValue(id)
	} else {
		msg.SetMessageID()
	}
	switch {
	case m.Text != "":
		msg.SetBodyString(gomail.TypeTextPlain, m.Text)
		if m.HTML != "" {
			msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
		}
	case m.HTML != "":
		msg.SetBodyString(gomail.TypeTextHTML, m.HTML)
	default:
		return nil, &deliveryError{msg: "message has no body", permanent: true}
	}
	return msg, nil
}

// messageID turns the stable Message.ID into an RFC 5322 msg-id (without the
// angle brackets): ID@domain-of-From. It returns "" when there is no usable
// ID, and go-mail then generates a random one.
func messageID(m notify.Message) string {
	left := atext(m.ID, 128)
	if left == "" {
		return ""
	}
	domain := "localhost"
	if a, err := netmail.ParseAddress(m.From); err == nil {
		if _, d, ok := strings.Cut(a.Address, "@"); ok && atext(d, 255) == d && d != "" {
			domain = d
		}
	}
	return left + "@" + domain
}

// atext keeps the characters allowed in a dot-atom (RFC 5322 3.2.3) and at
// most limit bytes of them.
func atext(s string, limit int) string {
	var b strings.Builder
	for _, r := range s {
		if b.Len() >= limit {
			break
		}
		if r < 0x80 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
			strings.ContainsRune("!#$%&'*+-/=?^_`{|}~.", r)) {
			b.WriteRune(r)
		}
	}
	return strings.Trim(b.String(), ".")
}

// deliveryError is what the senders return: a message safe to log (it never
// holds a password or an API key) and, when retrying cannot help,
// notify.ErrPermanent in its chain so the job stops.
type deliveryError struct {
	msg       string
	permanent bool
	cause     error
}

func (e *deliveryError) Error() string { return e.msg }

func (e *deliveryError) Unwrap() []error {
	errs := make([]error, 0, 2)
	if e.permanent {
		errs = append(errs, notify.ErrPermanent)
	}
	if e.cause != nil {
		errs = append(errs, e.cause)
	}
	return errs
}

// redact replaces every occurrence of each non-empty secret in s.
func redact(s string, secrets ...string) string {
	for _, secret := range secrets {
		if secret != "" {
			s = strings.ReplaceAll(s, secret, "[redacted]")
		}
	}
	return s
}
