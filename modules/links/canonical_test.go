package links

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

func TestCanonicalize(t *testing.T) {
	t.Parallel()
	long := "https://example.com/" + strings.Repeat("a", MaxURLLength-len("https://example.com/"))
	host253 := strings.Repeat("a", 63) + "." + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 61)
	cases := []struct {
		name, in, want string // want "" means ErrInvalidURL
	}{
		// Scheme and host case.
		{"already canonical", "https://example.com/a", "https://example.com/a"},
		{"scheme upper-case", "HTTPS://example.com/a", "https://example.com/a"},
		{"host upper-case", "http://ExAmPlE.CoM/Path", "http://example.com/Path"},
		{"path case kept", "https://example.com/A/b", "https://example.com/A/b"},
		{"surrounding space", "  https://example.com/a \n", "https://example.com/a"},
		// Ports.
		{"default http port", "http://example.com:80/a", "http://example.com/a"},
		{"default https port", "https://example.com:443/a", "https://example.com/a"},
		{"443 on http kept", "http://example.com:443/a", "http://example.com:443/a"},
		{"80 on https kept", "https://example.com:80/", "https://example.com:80/"},
		{"other port kept", "https://example.com:8443/x", "https://example.com:8443/x"},
		{"port leading zeros", "http://example.com:0080/", "http://example.com/"},
		{"empty port", "http://example.com:/a", "http://example.com/a"},
		{"port out of range", "http://example.com:70000/", ""},
		{"port zero", "http://example.com:0/", ""},
		// IDN.
		{"IDN to punycode", "https://bücher.example/", "https://xn--bcher-kva.example/"},
		{"IDN upper-case", "https://BÜCHER.example/", "https://xn--bcher-kva.example/"},
		{"punycode kept", "https://xn--bcher-kva.example/", "https://xn--bcher-kva.example/"},
		{"IDN japanese", "http://例え.テスト/パス", "http://xn--r8jz45g.xn--zckzah/%E3%83%91%E3%82%B9"},
		{"fullwidth host mapped", "https://ｅｘａｍｐｌｅ.com/", "https://example.com/"},
		// IP hosts.
		{"IPv4", "http://192.0.2.1:8080/x", "http://192.0.2.1:8080/x"},
		{"IPv6", "http://[2001:DB8::1]/", "http://[2001:db8::1]/"},
		{"IPv6 long form", "http://[2001:0db8:0000:0000:0000:0000:0000:0001]:443/", "http://[2001:db8::1]:443/"},
		{"IPv6 default port", "https://[::1]:443/a/", "https://[::1]/a"},
		{"IPv6 zone refused", "http://[fe80::1%25eth0]/", ""},
		{"IPv4-mapped IPv6", "http://[::ffff:192.0.2.1]/", "http://[::ffff:192.0.2.1]/"},
		// Paths and dot-segments.
		{"empty path", "https://example.com", "https://example.com/"},
		{"root path", "https://example.com/", "https://example.com/"},
		{"trailing slash dropped", "https://example.com/a/b/", "https://example.com/a/b"},
		{"only one trailing slash rule", "https://example.com/a//", "https://example.com/a//"},
		{"dot segments", "https://example.com/a/./b/../c", "https://example.com/a/c"},
		{"dot segments above root", "https://example.com/../../a", "https://example.com/a"},
		{"trailing dot segment", "https://example.com/a/b/..", "https://example.com/a"},
		{"encoded dot segments", "https://example.com/a/%2E%2e/b", "https://example.com/b"},
		{"double slash inside kept", "https://example.com/a//b", "https://example.com/a//b"},
		// Percent-encoding.
		{"unreserved decoded", "https://example.com/%7Euser/%61bc", "https://example.com/~user/abc"},
		{"hex upper-cased", "https://example.com/a%2fb%3a", "https://example.com/a%2Fb%3A"},
		{"space encoded", "https://example.com/a b", "https://example.com/a%20b"},
		{"unicode path encoded", "https://example.com/café", "https://example.com/caf%C3%A9"},
		{"encoded unicode kept upper", "https://example.com/caf%c3%a9", "https://example.com/caf%C3%A9"},
		{"query escapes normalised", "https://example.com/?q=%7e%2f", "https://example.com/?q=~%2F"},
		{"sub-delims literal", "https://example.com/a;b=c,d!$", "https://example.com/a;b=c,d!$"},
		// Query.
		{"query sorted", "https://example.com/?b=2&a=1", "https://example.com/?a=1&b=2"},
		{"repeated keys stable", "https://example.com/?b=1&a=2&b=0&a=1", "https://example.com/?a=2&a=1&b=1&b=0"},
		{"empty query dropped", "https://example.com/a?", "https://example.com/a"},
		{"empty params dropped", "https://example.com/?&&a=1&&", "https://example.com/?a=1"},
		{"valueless param kept", "https://example.com/?flag&a=1", "https://example.com/?a=1&flag"},
		{"plus kept", "https://example.com/?q=a+b", "https://example.com/?q=a+b"},
		{"encoded ampersand kept", "https://example.com/?q=a%26b", "https://example.com/?q=a%26b"},
		// Tracking parameters.
		{"utm dropped", "https://example.com/a?utm_source=x&utm_medium=y&id=3", "https://example.com/a?id=3"},
		{"only tracking", "https://example.com/a?utm_campaign=z", "https://example.com/a"},
		{"click ids dropped", "https://example.com/?fbclid=1&gclid=2&dclid=3&gbraid=4&wbraid=5&msclkid=6&yclid=7&igshid=8&x=1", "https://example.com/?x=1"},
		{"mailchimp and hubspot dropped", "https://example.com/?mc_cid=1&mc_eid=2&_hsenc=3&_hsmi=4&mkt_tok=5&p=2", "https://example.com/?p=2"},
		{"tracking upper-case dropped", "https://example.com/?UTM_Source=x&p=1", "https://example.com/?p=1"},
		{"tracking encoded name dropped", "https://example.com/?%75tm_source=x&p=1", "https://example.com/?p=1"},
		{"lookalike kept", "https://example.com/?utmost=1&fbclid_x=2", "https://example.com/?fbclid_x=2&utmost=1"},
		// Fragment.
		{"fragment dropped", "https://example.com/a#section", "https://example.com/a"},
		{"fragment after query", "https://example.com/a?b=1#c", "https://example.com/a?b=1"},
		// Refused.
		{"empty", "", ""},
		{"blank", "   ", ""},
		{"ftp", "ftp://example.com/", ""},
		{"javascript", "javascript:alert(1)", ""},
		{"mailto", "mailto:a@example.com", ""},
		{"no scheme", "example.com/a", ""},
		{"relative", "/a/b", ""},
		{"no host", "http:///a", ""},
		{"opaque", "http:example.com", ""},
		{"credentials", "https://user:pass@example.com/", ""},
		{"user only", "https://user@example.com/", ""},
		{"control character", "https://example.com/\x00", ""},
		{"bad escape", "https://example.com/%zz", ""},
		{"bad host", "https://exa mple.com/", ""},
		{"empty label", "https://a..b/", ""},
		{"host with the root's dot", "https://Example.com./a", "https://example.com/a"},
		{"root's dot before a port", "http://example.com.:8080/", "http://example.com:8080/"},
		{"IDN host with the root's dot", "https://bücher.example./", "https://xn--bcher-kva.example/"},
		{"only the root's dot", "https://./", ""},
		{"two final dots", "https://example.com../", ""},
		{"longest host with the root's dot", "https://" + host253 + "./", "https://" + host253 + "/"},
		{"host over 253 characters", "https://" + host253 + "d/", ""},
		{"length counted in characters", "https://example.com/a?utm_source=" + strings.Repeat("é", MaxURLLength-len("https://example.com/a?utm_source=")), "https://example.com/a"},
		{"over the limit in characters", "https://example.com/a?utm_source=" + strings.Repeat("é", MaxURLLength-len("https://example.com/a?utm_source=")+1), ""},
		{"at the length limit", long, long},
		{"over the length limit", long + "a", ""},
	}
	if len(cases) < 40 {
		t.Fatalf("only %d cases", len(cases))
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got, err := Canonicalize(c.in)
			if c.want == "" {
				if !errors.Is(err, ErrInvalidURL) {
					t.Fatalf("Canonicalize(%q) = %q, %v; want ErrInvalidURL", c.in, got, err)
				}
				return
			}
			if err != nil || got != c.want {
				t.Fatalf("Canonicalize(%q) = %q, %v; want %q", c.in, got, err, c.want)
			}
			again, err := Canonicalize(got)
			if err != nil || again != got {
				t.Fatalf("not idempotent: Canonicalize(%q) = %q, %v", got, again, err)
			}
		})
	}
}

func TestHost(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"https://www.example.com/a":  "example.com",
		"https://blog.example.com/":  "blog.example.com",
		"http://[2001:db8::1]:8080/": "[2001:db8::1]",
		"http://192.0.2.1/":          "192.0.2.1",
	} {
		if got := Host(in); got != want {
			t.Errorf("Host(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzCanonicalize: never panics; an accepted URL's canonical form is short
// enough, parses, is an http(s) URL with a host, and is its own canonical
// form.
func FuzzCanonicalize(f *testing.F) {
	for _, s := range []string{
		"https://example.com/a/./b/../c?b=2&a=1&utm_source=x#f",
		"HTTP://BÜCHER.example:80/%7e%2f?q=a+b",
		"http://[2001:DB8::1]:443/a//",
		"https://example.com/%2E%2E/%zz",
		"http://例え.テスト/パス?a&a=&=a",
		"https://x.example/a/b/?&&",
		"http://a/%",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out, err := Canonicalize(in)
		if err != nil {
			if !errors.Is(err, ErrInvalidURL) {
				t.Fatalf("Canonicalize(%q): unexpected error %v", in, err)
			}
			return
		}
		if len(out) > MaxURLLength {
			t.Fatalf("Canonicalize(%q) = %d characters", in, len(out))
		}
		u, err := url.Parse(out)
		if err != nil {
			t.Fatalf("Canonicalize(%q) = %q does not parse: %v", in, out, err)
		}
		if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.Fragment != "" {
			t.Fatalf("Canonicalize(%q) = %q: not an http(s) URL with a host", in, out)
		}
		again, err := Canonicalize(out)
		if err != nil || again != out {
			t.Fatalf("not idempotent: Canonicalize(%q) = %q; Canonicalize(%q) = %q, %v", in, out, out, again, err)
		}
	})
}
