package notify_test

import (
	"errors"
	"html"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/lenticular/lenticular/modules/notify"
)

const (
	testFrom     = "Lenticular <no-reply@lenticular.example>"
	testFrontend = "https://app.lenticular.example"
)

// htmlTag matches anything that looks like an HTML tag or entity.
var htmlTag = regexp.MustCompile(`<[a-zA-Z/!][^>]*>|&[a-z]+;|&#[0-9]+;`)

// hrefs returns the (unescaped) href values of the anchors in an HTML part.
var hrefAttr = regexp.MustCompile(`href="([^"]*)"`)

func hrefs(h string) []string {
	var out []string
	for _, m := range hrefAttr.FindAllStringSubmatch(h, -1) {
		out = append(out, html.UnescapeString(m[1]))
	}
	return out
}

func newRenderer(t *testing.T) *notify.Renderer {
	t.Helper()
	r, err := notify.NewRenderer(testFrom, testFrontend+"/")
	if err != nil {
		t.Fatalf("NewRenderer: %v", err)
	}
	return r
}

func TestRenderEveryTemplate(t *testing.T) {
	t.Parallel()
	r := newRenderer(t)

	// A token with every character that needs query escaping.
	const token = "a+b/c=d&e f?g#h"
	tokenQuery := url.Values{"token": {token}}.Encode()

	tests := []struct {
		template    string
		data        map[string]string
		subject     string
		link        string   // must appear in both parts, exactly
		contains    []string // in both parts
		notContains []string // in neither part
	}{
		{
			template: notify.TemplateVerifyEmail,
			data:     map[string]string{"token": token, "name": "Ada"},
			subject:  "Confirm your email address",
			link:     testFrontend + "/verify-email?" + tokenQuery,
			contains: []string{"Hi Ada,", "confirm"},
		},
		{
			template: notify.TemplateResetPassword,
			data:     map[string]string{"token": token},
			subject:  "Reset your Lenticular password",
			link:     testFrontend + "/reset-password?" + tokenQuery,
			contains: []string{"Hi,", "expires in 1 hour", "If you did not ask for this, you can ignore this email"},
		},
		{
			template:    notify.TemplatePasswordChanged,
			data:        map[string]string{"name": "Ada"},
			subject:     "Your Lenticular password was changed",
			contains:    []string{"password of your Lenticular account was just changed", "If you did not"},
			notContains: []string{"token", "verify-email", "reset-password"},
		},
		{
			template: notify.TemplateAnnouncement,
			data: map[string]string{
				"subject": "  New:\r\nsaved   searches ",
				"body":    "We shipped saved searches.\nTry them today.\r\n\r\nThanks for reading.",
			},
			subject:  "New: saved searches",
			contains: []string{"We shipped saved searches.", "Try them today.", "Thanks for reading."},
		},
	}
	if got, want := len(tests), len(r.Templates()); got != want {
		t.Fatalf("table covers %d templates, the renderer has %d (%v)", got, want, r.Templates())
	}

	for _, tt := range tests {
		t.Run(tt.template, func(t *testing.T) {
			t.Parallel()
			m, err := r.Render(notify.Email{To: "ada@example.com", Template: tt.template, Data: tt.data})
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			if m.Subject != tt.subject {
				t.Errorf("Subject = %q, want %q", m.Subject, tt.subject)
			}
			if m.From != testFrom || m.To != "ada@example.com" {
				t.Errorf("From, To = %q, %q", m.From, m.To)
			}
			if strings.TrimSpace(m.Text) == "" || strings.TrimSpace(m.HTML) == "" {
				t.Fatalf("empty part: text %d bytes, HTML %d bytes", len(m.Text), len(m.HTML))
			}

			// Layouts wrap the content.
			if !strings.HasPrefix(m.HTML, "<!DOCTYPE html>") || !strings.Contains(m.HTML, "</html>") {
				t.Errorf("HTML part is not wrapped in the layout:\n%s", m.HTML)
			}
			if !strings.Contains(m.HTML, "<title>"+html.EscapeString(tt.subject)+"</title>") {
				t.Errorf("HTML layout has no title with the subject")
			}
			const footer = "You received this email because of your account at"
			for part, body := range map[string]string{"text": m.Text, "HTML": m.HTML} {
				if !strings.Contains(body, footer) {
					t.Errorf("%s part lacks the layout footer", part)
				}
			}

			// The text part is readable text.
			if tag := htmlTag.FindString(m.Text); tag != "" {
				t.Errorf("text part contains HTML %q:\n%s", tag, m.Text)
			}

			for _, s := range tt.contains {
				if !strings.Contains(m.Text, s) {
					t.Errorf("text part lacks %q:\n%s", s, m.Text)
				}
				if !strings.Contains(html.UnescapeString(m.HTML), s) {
					t.Errorf("HTML part lacks %q:\n%s", s, m.HTML)
				}
			}
			for _, s := range tt.notContains {
				if strings.Contains(m.Text, s) || strings.Contains(m.HTML, s) {
					t.Errorf("message contains %q", s)
				}
			}

			if tt.link != "" {
				if !strings.Contains(m.Text, "\n"+tt.link+"\n") {
					t.Errorf("text part lacks the link %s on a line of its own:\n%s", tt.link, m.Text)
				}
				if !slices.Contains(hrefs(m.HTML), tt.link) {
					t.Errorf("HTML part has no href %s; hrefs: %q", tt.link, hrefs(m.HTML))
				}
				u, err := url.Parse(tt.link)
				if err != nil || u.Query().Get("token") != token {
					t.Errorf("link does not carry the token intact: %v %q", err, u.Query().Get("token"))
				}
			}
		})
	}
}

func TestRenderAnnouncementParagraphs(t *testing.T) {
	t.Parallel()
	r := newRenderer(t)
	m, err := r.Render(notify.Email{To: "a@example.com", Template: notify.TemplateAnnouncement, Data: map[string]string{
		"subject": "News", "body": "one\ntwo\n\nthree",
	}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(m.HTML, "<p>one<br>\ntwo</p>") || !strings.Contains(m.HTML, "<p>three</p>") {
		t.Errorf("HTML paragraphs wrong:\n%s", m.HTML)
	}
	if !strings.Contains(m.Text, "one\ntwo\n\nthree") {
		t.Errorf("text body changed:\n%s", m.Text)
	}
}

func TestRenderUnknownTemplate(t *testing.T) {
	t.Parallel()
	r := newRenderer(t)
	_, err := r.Render(notify.Email{To: "a@example.com", Template: "welcome_back"})
	if !errors.Is(err, notify.ErrUnknownTemplate) {
		t.Fatalf("err = %v, want ErrUnknownTemplate", err)
	}
	if !strings.Contains(err.Error(), "welcome_back") {
		t.Errorf("error %q does not name the template", err)
	}
}

func TestRenderMissingData(t *testing.T) {
	t.Parallel()
	r := newRenderer(t)
	tests := []struct {
		name  string
		email notify.Email
		want  string
	}{
		{"verify without token", notify.Email{To: "a@example.com", Template: notify.TemplateVerifyEmail}, `"token"`},
		{"reset with blank token", notify.Email{To: "a@example.com", Template: notify.TemplateResetPassword, Data: map[string]string{"token": "  "}}, `"token"`},
		{"announcement without body", notify.Email{To: "a@example.com", Template: notify.TemplateAnnouncement, Data: map[string]string{"subject": "x"}}, `"body"`},
		{"announcement with blank subject", notify.Email{To: "a@example.com", Template: notify.TemplateAnnouncement, Data: map[string]string{"subject": "\n", "body": "x"}}, `"subject"`},
		{"no recipient", notify.Email{Template: notify.TemplatePasswordChanged}, "recipient"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := r.Render(tt.email)
			if !errors.Is(err, notify.ErrMissingData) {
				t.Fatalf("err = %v, want ErrMissingData", err)
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), tt.email.Template) {
				t.Errorf("error %q should name %s and the template", err, tt.want)
			}
		})
	}
}

func TestRenderEscapesHostileData(t *testing.T) {
	t.Parallel()
	r := newRenderer(t)
	const hostile = `<script>alert("x")</script><img src=x onerror=alert(1)> & "Bob"`
	for _, name := range r.Templates() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			data := map[string]string{"name": hostile, "token": `"><script>alert(2)</script>`, "subject": hostile, "body": hostile}
			m, err := r.Render(notify.Email{To: "a@example.com", Template: name, Data: data})
			if err != nil {
				t.Fatal(err)
			}
			for _, bad := range []string{"<script", "<img", `"><`} {
				if strings.Contains(m.HTML, bad) {
					t.Errorf("HTML part contains unescaped %q:\n%s", bad, m.HTML)
				}
			}
			if name != notify.TemplatePasswordChanged && !strings.Contains(m.HTML, "&lt;script&gt;") {
				t.Errorf("HTML part does not show the escaped data:\n%s", m.HTML)
			}
			if strings.ContainsAny(m.Subject, "\r\n") {
				t.Errorf("subject spans lines: %q", m.Subject)
			}
		})
	}
}

func TestRenderNameIsOneLine(t *testing.T) {
	t.Parallel()
	r := newRenderer(t)
	m, err := r.Render(notify.Email{To: "a@example.com", Template: notify.TemplatePasswordChanged,
		Data: map[string]string{"name": "Ada\n\nClick http://evil.example"}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(m.Text, "Hi Ada Click http://evil.example,\n") {
		t.Errorf("display name not kept on the greeting line:\n%s", m.Text)
	}
}

func TestNewRendererRejectsBadSettings(t *testing.T) {
	t.Parallel()
	tests := []struct{ from, frontend string }{
		{"", testFrontend},
		{"not an address", testFrontend},
		{testFrom, ""},
		{testFrom, "app.example"},
		{testFrom, "javascript:alert(1)"},
		{testFrom, "ftp://app.example"},
		{testFrom, "https://app.example/?x=1"},
	}
	for _, tt := range tests {
		if _, err := notify.NewRenderer(tt.from, tt.frontend); err == nil {
			t.Errorf("NewRenderer(%q, %q) succeeded", tt.from, tt.frontend)
		}
	}
}

func TestTemplates(t *testing.T) {
	t.Parallel()
	got := newRenderer(t).Templates()
	want := []string{"announcement", "password_changed", "reset_password", "verify_email"}
	if !slices.Equal(got, want) {
		t.Errorf("Templates() = %v, want %v", got, want)
	}
}
