package mail

import (
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lenticular/lenticular/platform/config"
)

func TestNew(t *testing.T) {
	t.Parallel()
	const from = "Lenticular <no-reply@lenticular.example>"
	dir := filepath.Join(t.TempDir(), "mail")
	good := []struct {
		kind string
		s    Settings
		want any
	}{
		{"log", Settings{From: from, Logger: slog.Default()}, &LogSender{}},
		{"file", Settings{From: from, FileDir: dir}, &FileSender{}},
		{"smtp", Settings{From: from, SMTPURL: "smtp://u:p@mail.example:587"}, &SMTPSender{}},
		{"sendgrid", Settings{From: from, SendGridAPIKey: "SG.key"}, &SendGridSender{}},
	}
	for _, tt := range good {
		s, err := New(tt.kind, tt.s)
		if err != nil {
			t.Errorf("New(%q): %v", tt.kind, err)
			continue
		}
		if got, want := fmt.Sprintf("%T", s), fmt.Sprintf("%T", tt.want); got != want {
			t.Errorf("New(%q) = %s, want %s", tt.kind, got, want)
		}
	}

	const secret = "topsecret-value"
	bad := []struct {
		kind, names string
		s           Settings
	}{
		{"smtp", "SMTP_URL", Settings{From: from}},
		{"smtp", "SMTP_URL", Settings{From: from, SMTPURL: config.Secret("smtp://u:" + secret + "@mail.example?tls=none")}},
		{"smtp", "SMTP_URL", Settings{From: from, SMTPURL: config.Secret("smtp://u:" + secret + "@mail example")}},
		{"smtp", "SMTP_URL", Settings{From: from, SMTPURL: config.Secret("https://u:" + secret + "@mail.example")}},
		{"sendgrid", "SENDGRID_API_KEY", Settings{From: from}},
		{"file", "MAIL_FILE_DIR", Settings{From: from}},
		{"log", "MAIL_FROM", Settings{From: "nobody"}},
		{"pigeon", "MAILER", Settings{From: from}},
		{"", "MAILER", Settings{From: from}},
	}
	for _, tt := range bad {
		_, err := New(tt.kind, tt.s)
		if err == nil {
			t.Errorf("New(%q, %+v) succeeded", tt.kind, tt.s)
			continue
		}
		if !strings.HasPrefix(err.Error(), tt.names+": ") {
			t.Errorf("New(%q) error %q does not start with %s", tt.kind, err, tt.names)
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("New(%q) error holds the secret: %v", tt.kind, err)
		}
	}
}
