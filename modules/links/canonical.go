package links

import (
	"errors"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// MaxURLLength is the longest URL accepted, as submitted and as canonicalised.
const MaxURLLength = 2048

// ErrInvalidURL is returned by Canonicalize for anything that is not an
// acceptable http or https URL (API.md: 422, field url, code invalid_url).
var ErrInvalidURL = errors.New("invalid URL")

// trackingParams are query parameters that identify a campaign or a click,
// never the resource; names starting with "utm_" are tracking too.
var trackingParams = map[string]bool{
	"fbclid": true, "gclid": true, "dclid": true, "gbraid": true, "wbraid": true,
	"msclkid": true, "mc_cid": true, "mc_eid": true, "igshid": true, "yclid": true,
	"_hsenc": true, "_hsmi": true, "mkt_tok": true,
}

// idnaProfile maps a host to its ASCII (punycode) form the way browsers look
// names up (UTS #46 non-transitional, case-folded), without insisting on
// STD3 letters-digits-hyphen so that real hosts with underscores still work.
var idnaProfile = idna.New(
	idna.MapForLookup(),
	idna.Transitional(false),
	idna.BidiRule(),
	idna.StrictDomainName(false),
)

// Canonicalize returns the canonical form of an http or https URL: two URLs
// with the same canonical form are one link. It is a pure function of raw.
//
// The rules (API.md "Links"):
//   - surrounding white space is ignored; at most MaxURLLength characters
//     (Unicode characters as submitted; the result is ASCII);
//   - only http and https, with a host and without user credentials;
//   - scheme and host lower-cased, without a final dot ("example.com." is
//     example.com); an IDN host in ASCII (punycode); an IPv6
//     host in its RFC 5952 text form; the default port (80, 443) dropped and
//     any other port written without leading zeros;
//   - percent-encoding normalised: upper-case hex, unreserved characters
//     (A-Z a-z 0-9 - . _ ~) decoded, and any other byte that may not appear
//     literally encoded;
//   - dot-segments resolved (RFC 3986 5.2.4, after decoding, so %2E%2E is a
//     dot-segment too); an empty path becomes "/"; one trailing slash is
//     dropped from a non-root path (a run of trailing slashes is kept as is,
//     so that canonicalising a canonical URL never changes it);
//   - the fragment dropped;
//   - tracking parameters dropped: utm_*, fbclid, gclid, dclid, gbraid,
//     wbraid, msclkid, mc_cid, mc_eid, igshid, yclid, _hsenc, _hsmi,
//     mkt_tok (names compared case-insensitively after decoding); empty
//     parameters ("a=1&&b=2") dropped; the others sorted by name, stably, so
//     repeated names keep their order; "+" is left as it is; an empty query
//     is dropped.
//
// The result is at most MaxURLLength characters, parses with net/url, and is
// its own canonical form. Any failure is ErrInvalidURL.
func Canonicalize(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" || utf8.RuneCountInString(raw) > MaxURLLength {
		return "", ErrInvalidURL
	}
	u, err := url.Parse(raw)
	if err != nil || u.Opaque != "" || u.User != nil {
		return "", ErrInvalidURL
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return "", ErrInvalidURL
	}
	host, err := canonicalHost(u.Hostname())
	if err != nil {
		return "", err
	}
	port, err := canonicalPort(scheme, u.Port())
	if err != nil {
		return "", err
	}

	var b strings.Builder
	b.Grow(len(raw) + 8)
	b.WriteString(scheme)
	b.WriteString("://")
	b.WriteString(host)
	if port != "" {
		b.WriteByte(':')
		b.WriteString(port)
	}
	b.WriteString(canonicalPath(u.EscapedPath()))
	if q := canonicalQuery(u.RawQuery); q != "" {
		b.WriteByte('?')
		b.WriteString(q)
	}
	out := b.String()
	if len(out) > MaxURLLength {
		return "", ErrInvalidURL
	}
	return out, nil
}

// Host returns the host of a canonical URL without a leading "www.", the
// `domain` shown beside a link.
func Host(canonical string) string {
	u, err := url.Parse(canonical)
	if err != nil {
		return ""
	}
	h := u.Hostname()
	if strings.Contains(h, ":") { // IPv6
		return "[" + h + "]"
	}
	return strings.TrimPrefix(h, "www.")
}

func canonicalHost(h string) (string, error) {
	if h == "" {
		return "", ErrInvalidURL
	}
	if strings.Contains(h, ":") { // IPv6 literal (net/url checked the brackets)
		addr, err := netip.ParseAddr(h)
		if err != nil || !addr.Is6() || addr.Zone() != "" {
			return "", ErrInvalidURL
		}
		return "[" + addr.String() + "]", nil
	}
	if !utf8.ValidString(h) {
		return "", ErrInvalidURL
	}
	a, err := idnaProfile.ToASCII(h)
	if err != nil || a == "" || len(strings.TrimSuffix(a, ".")) > 253 {
		return "", ErrInvalidURL
	}
	a = strings.ToLower(a)
	// A punycode label must decode to a valid name that maps back to itself;
	// otherwise the result would not be its own canonical form.
	if again, err := idnaProfile.ToASCII(a); err != nil || strings.ToLower(again) != a {
		return "", ErrInvalidURL
	}
	for i := 0; i < len(a); i++ {
		c := a[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_') {
			return "", ErrInvalidURL
		}
	}
	if strings.Trim(a, ".") == "" || strings.Contains(a, "..") {
		return "", ErrInvalidURL
	}
	// The root's dot ("example.com.") names the same host.
	return strings.TrimSuffix(a, "."), nil
}

func canonicalPort(scheme, port string) (string, error) {
	if port == "" { // none, or empty as in "http://example.com:/"
		return "", nil
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return "", ErrInvalidURL
	}
	if scheme == "http" && n == 80 || scheme == "https" && n == 443 {
		return "", nil
	}
	return strconv.Itoa(n), nil
}

// canonicalPath normalises the percent-encoding of an escaped path, resolves
// its dot-segments and applies the root and trailing-slash rules.
func canonicalPath(escaped string) string {
	p := normalizeEscapes(escaped, pathByte)
	p = removeDotSegments(p)
	if p == "" {
		return "/"
	}
	if p[0] != '/' {
		p = "/" + p
	}
	if len(p) > 1 && strings.HasSuffix(p, "/") && !strings.HasSuffix(p, "//") {
		p = p[:len(p)-1]
	}
	return p
}

// canonicalQuery drops tracking and empty parameters and sorts the rest by
// their normalised name, stably.
func canonicalQuery(raw string) string {
	if raw == "" {
		return ""
	}
	type param struct{ name, full string }
	var params []param
	for part := range strings.SplitSeq(raw, "&") {
		if part == "" {
			continue
		}
		part = normalizeEscapes(part, queryByte)
		name, _, _ := strings.Cut(part, "=")
		if isTracking(name) {
			continue
		}
		params = append(params, param{name: name, full: part})
	}
	slices.SortStableFunc(params, func(a, b param) int { return strings.Compare(a.name, b.name) })
	var b strings.Builder
	for i, p := range params {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.full)
	}
	return b.String()
}

func isTracking(name string) bool {
	if dec, err := url.QueryUnescape(name); err == nil {
		name = dec
	}
	name = strings.ToLower(name)
	return strings.HasPrefix(name, "utm_") || trackingParams[name]
}

func unreserved(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

func subDelim(c byte) bool { return strings.IndexByte("!$&'()*+,;=", c) >= 0 }

// pathByte tells whether c may appear literally in a path (RFC 3986 pchar
// plus "/").
func pathByte(c byte) bool { return unreserved(c) || subDelim(c) || c == ':' || c == '@' || c == '/' }

// queryByte tells whether c may appear literally inside one query parameter
// ("&" separates parameters and was split on before).
func queryByte(c byte) bool { return pathByte(c) || c == '?' }

const upperHex = "0123456789ABCDEF"

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// normalizeEscapes rewrites s so that every unreserved character is literal,
// every other escaped byte uses upper-case hex, and every byte that literal
// may not hold (per allowed) is escaped. A "%" that does not start an escape
// becomes "%25".
func normalizeEscapes(s string, allowed func(byte) bool) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '%' && i+2 < len(s) {
			hi, ok1 := unhex(s[i+1])
			lo, ok2 := unhex(s[i+2])
			if ok1 && ok2 {
				v := hi<<4 | lo
				if unreserved(v) {
					b.WriteByte(v)
				} else {
					b.WriteByte('%')
					b.WriteByte(upperHex[v>>4])
					b.WriteByte(upperHex[v&15])
				}
				i += 2
				continue
			}
		}
		if c != '%' && allowed(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(upperHex[c>>4])
		b.WriteByte(upperHex[c&15])
	}
	return b.String()
}

// removeDotSegments is RFC 3986 section 5.2.4.
func removeDotSegments(in string) string {
	var out []string // output segments, each starting with "/" (or not, for the first of a relative path)
	for in != "" {
		switch {
		case strings.HasPrefix(in, "../"):
			in = in[3:]
		case strings.HasPrefix(in, "./"):
			in = in[2:]
		case strings.HasPrefix(in, "/./"):
			in = in[2:]
		case in == "/.":
			in = "/"
		case strings.HasPrefix(in, "/../"):
			in = in[3:]
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		case in == "/..":
			in = "/"
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		case in == "." || in == "..":
			in = ""
		default:
			start := 0
			if in[0] == '/' {
				start = 1
			}
			end := strings.IndexByte(in[start:], '/')
			if end < 0 {
				end = len(in)
			} else {
				end += start
			}
			out = append(out, in[:end])
			in = in[end:]
		}
	}
	return strings.Join(out, "")
}
