package rest

import (
	"net/netip"
	"testing"
)

func TestClientIP(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8::/32")}
	behind := ClientIPResolver{Trusted: proxies}
	cloudflare := ClientIPResolver{Trusted: proxies, Cloudflare: true}
	none := ClientIPResolver{}
	cases := []struct {
		name       string
		r          ClientIPResolver
		peer, xff  string
		cf, expect string
	}{
		{"direct peer", none, "203.0.113.7:5555", "", "", "203.0.113.7"},
		{"spoofed XFF from untrusted peer is ignored", none, "203.0.113.7:5555", "1.2.3.4", "", "203.0.113.7"},
		{"spoofed XFF from untrusted peer with proxies configured", behind, "203.0.113.7:5555", "1.2.3.4", "", "203.0.113.7"},
		{"spoofed CF header from untrusted peer", cloudflare, "203.0.113.7:5555", "", "1.2.3.4", "203.0.113.7"},
		{"trusted proxy, one hop", behind, "10.0.0.2:443", "198.51.100.9", "", "198.51.100.9"},
		{"right-most untrusted wins over client-supplied left entries", behind, "10.0.0.2:443", "6.6.6.6, 198.51.100.9", "", "198.51.100.9"},
		{"chain of trusted proxies is skipped", behind, "10.0.0.2:443", "198.51.100.9, 10.1.1.1, 10.2.2.2", "", "198.51.100.9"},
		{"all entries trusted: left-most", behind, "10.0.0.2:443", "10.9.9.9, 10.1.1.1", "", "10.9.9.9"},
		{"garbage entry stops the walk", behind, "10.0.0.2:443", "198.51.100.9, garbage", "", "10.0.0.2"},
		{"trusted proxy without XFF", behind, "10.0.0.2:443", "", "", "10.0.0.2"},
		{"ipv6 peer", none, "[2001:db9::1]:443", "", "", "2001:db9::1"},
		{"ipv6 trusted proxy, ipv4 client", behind, "[2001:db8::5]:443", "198.51.100.9", "", "198.51.100.9"},
		{"xff with port", behind, "10.0.0.2:443", "198.51.100.9:1234", "", "198.51.100.9"},
		{"ipv4-mapped peer is unmapped", none, "[::ffff:203.0.113.7]:80", "", "", "203.0.113.7"},
		{"cloudflare header from trusted peer", cloudflare, "10.0.0.2:443", "6.6.6.6", "198.51.100.9", "198.51.100.9"},
		{"cloudflare without header falls back to XFF", cloudflare, "10.0.0.2:443", "198.51.100.9", "", "198.51.100.9"},
		{"cloudflare bad header falls back", cloudflare, "10.0.0.2:443", "198.51.100.9", "nonsense", "198.51.100.9"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.r.Resolve(tc.peer, tc.xff, tc.cf)
			if got.String() != tc.expect {
				t.Errorf("Resolve(%q, %q, %q) = %s, want %s", tc.peer, tc.xff, tc.cf, got, tc.expect)
			}
		})
	}
}

func FuzzClientIP(f *testing.F) {
	r := ClientIPResolver{Trusted: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, Cloudflare: true}
	f.Add("10.0.0.1:80", "1.2.3.4, 10.0.0.3", "")
	f.Add("1.2.3.4:80", ",,,", "::1")
	f.Fuzz(func(t *testing.T, peer, xff, cf string) {
		got := r.Resolve(peer, xff, cf)
		p := parseHostAddr(peer)
		if !r.trusted(p) && got != p {
			t.Fatalf("untrusted peer %q resolved to %s", peer, got)
		}
	})
}
