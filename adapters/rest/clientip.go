package rest

import (
	"net"
	"net/netip"
	"strings"
)

// ClientIPResolver finds the address of the person behind a request.
//
// Gin's own ClientIP trusts a platform header such as CF-Connecting-IP from
// any peer, which lets anyone spoof their address to the rate limiter; this
// resolver reads forwarding headers only from configured proxies.
type ClientIPResolver struct {
	Trusted    []netip.Prefix
	Cloudflare bool
}

func (r ClientIPResolver) trusted(a netip.Addr) bool {
	for _, p := range r.Trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Resolve returns the TCP peer unless the peer is a trusted proxy; then the
// right-most untrusted X-Forwarded-For entry (or CF-Connecting-IP behind
// Cloudflare). Entries left of a malformed one are never believed.
func (r ClientIPResolver) Resolve(remoteAddr, xff, cfConnectingIP string) netip.Addr {
	peer := parseHostAddr(remoteAddr)
	if !peer.IsValid() || !r.trusted(peer) {
		return peer
	}
	if r.Cloudflare {
		if a, err := netip.ParseAddr(strings.TrimSpace(cfConnectingIP)); err == nil {
			return a.Unmap()
		}
	}
	client := peer
	for xff != "" {
		i := strings.LastIndexByte(xff, ',')
		entry := strings.TrimSpace(xff[i+1:])
		xff = xff[:max(i, 0)]
		a := parseHostAddr(entry)
		if !a.IsValid() {
			break
		}
		client = a
		if !r.trusted(a) {
			break
		}
		if i < 0 {
			break
		}
	}
	return client
}

// parseHostAddr accepts "ip", "ip:port" and "[ipv6]:port".
func parseHostAddr(s string) netip.Addr {
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap()
	}
	if host, _, err := net.SplitHostPort(s); err == nil {
		if a, err := netip.ParseAddr(host); err == nil {
			return a.Unmap()
		}
	}
	return netip.Addr{}
}
