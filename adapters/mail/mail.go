// Package mail implements notify.Sender: LogSender (development default),
// FileSender (.eml files), SMTPSender and SendGridSender. New picks one from
// the configuration.
package mail

import (
	"errors"
	"fmt"
	"log/slog"
	netmail "net/mail"

	"github.com/lenticular/lenticular/modules/notify"
	"github.com/lenticular/lenticular/platform/config"
)

// Settings are the mail settings of the configuration. The secrets keep
// their config.Secret type so printing Settings cannot leak them.
type Settings struct {
	From           string        // MAIL_FROM
	FileDir        string        // MAIL_FILE_DIR
	SMTPURL        config.Secret // SMTP_URL
	SendGridAPIKey config.Secret // SENDGRID_API_KEY
	Logger         *slog.Logger  // for MAILER=log; slog.Default() if nil
}

// New returns the sender named by kind (MAILER: log, file, smtp or
// sendgrid), checking its settings now so a bad one stops start-up with an
// error naming the variable.
func New(kind string, s Settings) (notify.Sender, error) {
	if _, err := netmail.ParseAddress(s.From); err != nil {
		return nil, fmt.Errorf("MAIL_FROM: %q is not an email address: %w", s.From, err)
	}
	switch kind {
	case "log":
		return NewLogSender(s.Logger), nil
	case "file":
		fs, err := NewFileSender(s.FileDir)
		if err != nil {
			return nil, fmt.Errorf("MAIL_FILE_DIR: %w", err)
		}
		return fs, nil
	case "smtp":
		if s.SMTPURL == "" {
			return nil, errors.New("SMTP_URL: is required when MAILER=smtp (smtp://user:pass@host:587)")
		}
		ss, err := NewSMTPSender(s.SMTPURL.Reveal())
		if err != nil {
			return nil, fmt.Errorf("SMTP_URL: %w", err)
		}
		return ss, nil
	case "sendgrid":
		sg, err := NewSendGridSender(s.SendGridAPIKey.Reveal())
		if err != nil {
			return nil, fmt.Errorf("SENDGRID_API_KEY: %w", err)
		}
		return sg, nil
	default:
		return nil, fmt.Errorf("MAILER: %q is not one of log, file, smtp, sendgrid", kind)
	}
}
