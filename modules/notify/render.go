package notify

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"net/mail"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strings"
	texttemplate "text/template"
)

// The templates the Renderer knows. Each is a pair of files in templates/:
// NAME.txt.tmpl defines "subject" and "content", NAME.html.tmpl defines
// "content"; layout.txt.tmpl and layout.html.tmpl wrap every content block.
//
// Every template accepts the optional data key "name" (the recipient's
// display name, used in the greeting). The keys a template cannot do without
// are listed beside each name and checked by Render.
const (
	// TemplateVerifyEmail asks the user to confirm their address; needs
	// "token", linked as FRONTEND_URL/verify-email?token=...
	TemplateVerifyEmail = "verify_email"
	// TemplateResetPassword delivers a password reset link; needs "token",
	// linked as FRONTEND_URL/reset-password?token=...
	TemplateResetPassword = "reset_password"
	// TemplatePasswordChanged tells the (old) address that the password
	// changed; it carries no token.
	TemplatePasswordChanged = "password_changed"
	// TemplateAnnouncement is a generic batch mail; needs "subject" and
	// "body" (plain text, paragraphs separated by a blank line).
	TemplateAnnouncement = "announcement"
)

// ErrMissingData is returned by Render when an Email lacks a data key (or the
// recipient) that its template requires.
var ErrMissingData = errors.New("email data missing")

// spec is what Go knows about a template: the data it cannot render without
// and, for the emails that exist to deliver a token, the frontend page the
// token is linked to.
type spec struct {
	required []string
	linkPath string // with the "token" key as its one query parameter
}

var catalog = map[string]spec{
	TemplateVerifyEmail:     {required: []string{"token"}, linkPath: "/verify-email"},
	TemplateResetPassword:   {required: []string{"token"}, linkPath: "/reset-password"},
	TemplatePasswordChanged: {},
	TemplateAnnouncement:    {required: []string{"subject", "body"}},
}

//go:embed templates/*.tmpl
var templateFS embed.FS

const (
	templateDir  = "templates"
	layoutName   = "layout"
	textSuffix   = ".txt.tmpl"
	htmlSuffix   = ".html.tmpl"
	subjectBlock = "subject"
	contentBlock = "content"
)

// view is what a template sees. Link is finished in Go (the token is
// query-escaped there); the HTML templates escape every field again for
// their context, so a display name can never inject markup.
type view struct {
	Subject     string
	FrontendURL string
	Name        string
	Link        string
	// Paragraphs is the announcement body, split into paragraphs of lines,
	// for the HTML part; the text part prints Data.body as it is.
	Paragraphs [][]string
	Data       map[string]string
}

type compiled struct {
	spec
	text *texttemplate.Template
	html *htmltemplate.Template
}

// Renderer turns an Email into a multipart Message (plain text and HTML)
// from the templates embedded in the binary. It is safe for concurrent use.
type Renderer struct {
	from        string
	frontendURL string
	templates   map[string]compiled
}

// NewRenderer parses every template once and renders each with sample data,
// so a broken template stops start-up instead of failing the first job that
// uses it. from is the From header of every message (MAIL_FROM); frontendURL
// is the absolute http(s) base of the links (FRONTEND_URL).
func NewRenderer(from, frontendURL string) (*Renderer, error) {
	if _, err := mail.ParseAddress(from); err != nil {
		return nil, fmt.Errorf("sender address %q: %w", from, err)
	}
	base := strings.TrimRight(frontendURL, "/")
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("frontend URL %q is not an absolute http(s) URL without query", frontendURL)
	}
	r := &Renderer{from: from, frontendURL: base, templates: make(map[string]compiled, len(catalog))}

	if err := checkFiles(); err != nil {
		return nil, err
	}
	textLayout, err := texttemplate.New(layoutName+textSuffix).Option("missingkey=error").
		ParseFS(templateFS, path.Join(templateDir, layoutName+textSuffix))
	if err != nil {
		return nil, fmt.Errorf("parse text layout: %w", err)
	}
	htmlLayout, err := htmltemplate.New(layoutName+htmlSuffix).Option("missingkey=error").
		ParseFS(templateFS, path.Join(templateDir, layoutName+htmlSuffix))
	if err != nil {
		return nil, fmt.Errorf("parse HTML layout: %w", err)
	}
	for name, s := range catalog {
		c := compiled{spec: s}
		if c.text, err = textLayout.Clone(); err == nil {
			_, err = c.text.ParseFS(templateFS, path.Join(templateDir, name+textSuffix))
		}
		if err != nil {
			return nil, fmt.Errorf("parse template %s (text): %w", name, err)
		}
		if c.html, err = htmlLayout.Clone(); err == nil {
			_, err = c.html.ParseFS(templateFS, path.Join(templateDir, name+htmlSuffix))
		}
		if err != nil {
			return nil, fmt.Errorf("parse template %s (HTML): %w", name, err)
		}
		for _, block := range []string{subjectBlock, contentBlock} {
			if c.text.Lookup(block) == nil {
				return nil, fmt.Errorf("template %s%s does not define %q", name, textSuffix, block)
			}
		}
		if c.html.Lookup(contentBlock) == nil {
			return nil, fmt.Errorf("template %s%s does not define %q", name, htmlSuffix, contentBlock)
		}
		r.templates[name] = c
	}

	for name, c := range r.templates {
		data := map[string]string{"name": "Sample"}
		for _, k := range c.required {
			data[k] = "sample"
		}
		if _, err := r.Render(Email{To: "sample@example.com", Template: name, Data: data}); err != nil {
			return nil, fmt.Errorf("trial render: %w", err)
		}
	}
	return r, nil
}

// checkFiles makes sure the embedded files and the catalog agree: a template
// file without a catalog entry (or the reverse) is a mistake worth stopping for.
func checkFiles() error {
	files, err := fs.Glob(templateFS, path.Join(templateDir, "*.tmpl"))
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, f := range files {
		base := path.Base(f)
		name, ok := strings.CutSuffix(base, textSuffix)
		if !ok {
			name, ok = strings.CutSuffix(base, htmlSuffix)
		}
		if !ok {
			return fmt.Errorf("template file %s is neither %s nor %s", base, textSuffix, htmlSuffix)
		}
		if _, known := catalog[name]; !known && name != layoutName {
			return fmt.Errorf("template file %s has no entry in the notify catalog", base)
		}
		seen[base] = true
	}
	for name := range catalog {
		for _, suffix := range []string{textSuffix, htmlSuffix} {
			if !seen[name+suffix] {
				return fmt.Errorf("template %s has no file %s%s", name, name, suffix)
			}
		}
	}
	return nil
}

// Templates returns the names Render accepts, sorted.
func (r *Renderer) Templates() []string {
	names := make([]string, 0, len(r.templates))
	for name := range r.templates {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// Render builds the message for e. It returns an error wrapping
// ErrUnknownTemplate for a name it does not know and one wrapping
// ErrMissingData when the recipient or a required data key is empty. The
// returned Message has no ID: the caller sets it (see Deliverer).
func (r *Renderer) Render(e Email) (Message, error) {
	c, ok := r.templates[e.Template]
	if !ok {
		return Message{}, fmt.Errorf("%w: %q", ErrUnknownTemplate, e.Template)
	}
	var missing []string
	if strings.TrimSpace(e.To) == "" {
		missing = append(missing, "recipient (To)")
	}
	for _, k := range c.required {
		if strings.TrimSpace(e.Data[k]) == "" {
			missing = append(missing, fmt.Sprintf("%q", k))
		}
	}
	if len(missing) > 0 {
		return Message{}, fmt.Errorf("%w: template %s needs %s", ErrMissingData, e.Template, strings.Join(missing, ", "))
	}

	data := make(map[string]string, len(e.Data))
	for k, v := range e.Data {
		data[k] = strings.ReplaceAll(v, "\r\n", "\n")
	}
	v := view{
		FrontendURL: r.frontendURL,
		Name:        oneLine(data["name"]),
		Data:        data,
	}
	if c.linkPath != "" {
		v.Link = r.frontendURL + c.linkPath + "?" + url.Values{"token": {data["token"]}}.Encode()
	}
	if body, ok := data["body"]; ok {
		v.Paragraphs = paragraphs(body)
	}

	var buf bytes.Buffer
	if err := c.text.ExecuteTemplate(&buf, subjectBlock, v); err != nil {
		return Message{}, fmt.Errorf("render %s subject: %w", e.Template, err)
	}
	// One line, whatever the data held: a newline in a header would let data
	// add headers of its own.
	v.Subject = oneLine(buf.String())
	if v.Subject == "" {
		return Message{}, fmt.Errorf("%w: template %s rendered an empty subject", ErrMissingData, e.Template)
	}

	buf.Reset()
	if err := c.text.ExecuteTemplate(&buf, layoutName, v); err != nil {
		return Message{}, fmt.Errorf("render %s text: %w", e.Template, err)
	}
	text := strings.TrimSpace(buf.String()) + "\n"

	buf.Reset()
	if err := c.html.ExecuteTemplate(&buf, layoutName, v); err != nil {
		return Message{}, fmt.Errorf("render %s HTML: %w", e.Template, err)
	}

	return Message{
		From:    r.from,
		To:      strings.TrimSpace(e.To),
		Subject: v.Subject,
		Text:    text,
		HTML:    buf.String(),
	}, nil
}

// oneLine collapses every run of white space, newlines included, to one space.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

var blankLines = regexp.MustCompile(`\n[ \t]*\n\s*`)

// paragraphs splits plain text at blank lines, and each paragraph into lines.
func paragraphs(body string) [][]string {
	var out [][]string
	for _, p := range blankLines.Split(strings.TrimSpace(body), -1) {
		var lines []string
		for _, l := range strings.Split(p, "\n") {
			if l = strings.TrimSpace(l); l != "" {
				lines = append(lines, l)
			}
		}
		if len(lines) > 0 {
			out = append(out, lines)
		}
	}
	return out
}
