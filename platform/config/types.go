package config

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Secret is a setting that must never reach a log line or an error body: it
// prints as a placeholder however it is formatted.
type Secret string

func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "[redacted]"
}

// GoString keeps %#v from printing the value either.
func (s Secret) GoString() string { return s.String() }

// Reveal returns the value for the one place that needs it.
func (s Secret) Reveal() string { return string(s) }

// ByteSize is a size in bytes, written as a plain number or with a unit
// (KiB, MiB, GiB, KB, MB, GB).
type ByteSize int64

func (b *ByteSize) UnmarshalText(text []byte) error {
	s := strings.TrimSpace(string(text))
	units := []struct {
		suffix string
		mult   int64
	}{{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30}, {"kb", 1e3}, {"mb", 1e6}, {"gb", 1e9}, {"b", 1}}
	mult := int64(1)
	lower := strings.ToLower(s)
	for _, u := range units {
		if strings.HasSuffix(lower, u.suffix) {
			mult, s = u.mult, strings.TrimSpace(s[:len(s)-len(u.suffix)])
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 || n > (1<<40)/mult {
		return fmt.Errorf("%q is not a positive size such as 1048576 or 1MiB", string(text))
	}
	*b = ByteSize(n * mult)
	return nil
}

// RateSpec is N events per Window, written N/WINDOW: `300/m`, `10/15m`,
// `5/30s`. A bare unit (`s`, `m`, `h`) means one of that unit.
type RateSpec struct {
	Count  int
	Window time.Duration
}

func (r RateSpec) String() string { return fmt.Sprintf("%d/%s", r.Count, r.Window) }

func (r *RateSpec) UnmarshalText(text []byte) error {
	spec, err := ParseRateSpec(string(text))
	if err != nil {
		return err
	}
	*r = spec
	return nil
}

// ParseRateSpec parses N/WINDOW.
func ParseRateSpec(s string) (RateSpec, error) {
	bad := func(why string) (RateSpec, error) {
		return RateSpec{}, fmt.Errorf("%q is not N/WINDOW (e.g. 300/m, 10/15m): %s", s, why)
	}
	n, w, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok {
		return bad("missing /")
	}
	count, err := strconv.Atoi(strings.TrimSpace(n))
	if err != nil || count <= 0 {
		return bad("N must be a positive integer")
	}
	w = strings.TrimSpace(w)
	switch w {
	case "s", "m", "h":
		w = "1" + w
	}
	window, err := time.ParseDuration(w)
	if err != nil {
		return bad("WINDOW must be a duration such as 30s, 15m, 1h")
	}
	if window <= 0 {
		return bad("WINDOW must be positive")
	}
	return RateSpec{Count: count, Window: window}, nil
}

// Prefixes is a comma-separated list of CIDRs; a bare address means that one
// host.
type Prefixes []netip.Prefix

func (p *Prefixes) UnmarshalText(text []byte) error {
	var out Prefixes
	for _, v := range strings.Split(string(text), ",") {
		v = strings.TrimSpace(v)
		if v == "" {
			continue
		}
		if strings.Contains(v, "/") {
			pre, err := netip.ParsePrefix(v)
			if err != nil {
				return fmt.Errorf("%q is not a CIDR", v)
			}
			out = append(out, pre.Masked())
			continue
		}
		a, err := netip.ParseAddr(v)
		if err != nil {
			return fmt.Errorf("%q is not an IP address or CIDR", v)
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	*p = out
	return nil
}
