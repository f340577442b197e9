package observability

import (
	"net/textproto"
	"net/url"
	"regexp"

	"github.com/getsentry/sentry-go"
)

// Redacted replaces every value the scrubber removes.
const Redacted = "[redacted]"

// sensitiveKey matches the names of headers, query parameters, tags and data
// keys whose values are credentials or personal data.
var sensitiveKey = regexp.MustCompile(`(?i)pass(word|wd)?|secret|token|auth|cookie|session|csrf|api[-_]?key|signature|credential|email|e-mail|dsn|otp`)

// emailPattern finds email addresses inside free text (error messages,
// panic values, breadcrumbs).
var emailPattern = regexp.MustCompile(`[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}`)

// bearerPattern finds credentials written into free text.
var bearerPattern = regexp.MustCompile(`(?i)(bearer|basic)\s+[A-Za-z0-9._~+/=\-]+`)

// jwtPattern finds JSON Web Tokens (three base64url parts) in free text.
var jwtPattern = regexp.MustCompile(`eyJ[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*`)

// secretParamPattern finds credential-like parameters written into free
// text (a URL with ?token=... in an error message).
var secretParamPattern = regexp.MustCompile(`(?i)\b((?:access_|refresh_|reset_)?token|password|passwd|secret|api_?key|code|sig|signature|email)=[^&\s"']+`)

// urlPasswordPattern finds the password of a URL such as
// postgres://user:password@host.
var urlPasswordPattern = regexp.MustCompile(`(://[^:/@\s]+:)[^@\s]+@`)

// keptHeaders are the only request headers an event keeps; everything else
// (Authorization, Cookie, X-CSRF-Token, forwarding headers with client IPs,
// whatever a client invents) is dropped.
var keptHeaders = map[string]bool{
	"Accept": true, "Content-Type": true, "Content-Length": true, "User-Agent": true,
	"X-Request-Id": true, "Host": true, "Origin": true, "X-Token-Transport": true,
}

// Scrub is the BeforeSend and BeforeSendTransaction hook: it removes cookies,
// credentials, request bodies, query values, emails and IP addresses from an
// event and keeps what identifies the problem (request id, route, user id,
// stack trace). It never returns nil: an event is scrubbed, not dropped.
func Scrub(event *sentry.Event, _ *sentry.EventHint) *sentry.Event {
	if event == nil {
		return nil
	}
	if r := event.Request; r != nil {
		r.Cookies = ""
		r.Data = ""
		r.Env = nil
		r.QueryString = scrubQuery(r.QueryString)
		r.URL = scrubURL(r.URL)
		for k := range r.Headers {
			if !keptHeaders[canonicalHeader(k)] {
				delete(r.Headers, k)
			}
		}
	}
	event.User = sentry.User{ID: event.User.ID}
	event.Message = ScrubText(event.Message)
	for i := range event.Exception {
		event.Exception[i].Value = ScrubText(event.Exception[i].Value)
	}
	scrubTags(event.Tags)
	for name, c := range event.Contexts {
		if name == "trace" {
			continue // ids and op names only
		}
		scrubMap(c)
	}
	for _, b := range event.Breadcrumbs {
		b.Message = ScrubText(b.Message)
		scrubMap(b.Data)
	}
	for _, s := range event.Spans {
		s.Description = ScrubText(s.Description)
		scrubTags(s.Tags)
		scrubMap(s.Data)
	}
	return event
}

// ScrubText removes emails, bearer credentials, JWTs and URL passwords from
// free text.
func ScrubText(s string) string {
	if s == "" {
		return s
	}
	s = emailPattern.ReplaceAllString(s, Redacted)
	s = bearerPattern.ReplaceAllString(s, "$1 "+Redacted)
	s = jwtPattern.ReplaceAllString(s, Redacted)
	s = urlPasswordPattern.ReplaceAllString(s, "${1}"+Redacted+"@")
	s = secretParamPattern.ReplaceAllString(s, "${1}="+Redacted)
	return s
}

// scrubQuery keeps the parameter names (useful to reproduce) and drops every
// value: a password-reset link carries its token in the query.
func scrubQuery(q string) string {
	if q == "" {
		return ""
	}
	vals, err := url.ParseQuery(q)
	if err != nil {
		return Redacted
	}
	for k := range vals {
		vals[k] = []string{Redacted}
	}
	return vals.Encode()
}

func scrubURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ScrubText(raw)
	}
	u.User = nil
	u.RawQuery = scrubQuery(u.RawQuery)
	u.Fragment = ""
	return ScrubText(u.String())
}

func scrubTags(tags map[string]string) {
	for k, v := range tags {
		if sensitiveKey.MatchString(k) {
			tags[k] = Redacted
			continue
		}
		tags[k] = ScrubText(v)
	}
}

func scrubMap(m map[string]any) {
	for k, v := range m {
		if sensitiveKey.MatchString(k) {
			m[k] = Redacted
			continue
		}
		switch t := v.(type) {
		case string:
			m[k] = ScrubText(t)
		case map[string]any:
			scrubMap(t)
		case map[string]string:
			scrubTags(t)
		}
	}
}

func canonicalHeader(k string) string { return textproto.CanonicalMIMEHeaderKey(k) }
