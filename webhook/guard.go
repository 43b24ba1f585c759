package webhook

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
)

// Guard decides which destinations deliveries may reach. Every address a
// host name resolves to is checked when it is dialled (so DNS cannot swap a
// public address for an internal one after the URL was checked): loopback,
// private, link-local (cloud metadata included), shared, reserved,
// multicast and documentation ranges are refused, also when written as
// IPv4-mapped, IPv4-compatible, NAT64 or 6to4 IPv6 addresses, unless Allow
// permits them.
type Guard struct {
	// AllowHTTP permits plain http:// endpoints (loopback tests, demos).
	AllowHTTP bool
	// Allow lists ranges that are reachable although they would be refused.
	Allow []netip.Prefix
}

// ErrBlocked marks a destination the guard refused.
var ErrBlocked = errors.New("destination not allowed")

// ParseAllow reads a comma-separated list of CIDR ranges or addresses.
func ParseAllow(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if !strings.Contains(f, "/") {
			a, err := netip.ParseAddr(f)
			if err != nil {
				return nil, fmt.Errorf("allow-list entry %q: %w", f, err)
			}
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			return nil, fmt.Errorf("allow-list entry %q: %w", f, err)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// CheckURL checks an endpoint URL before it is stored: its scheme, and its
// host when it is an address (names are checked when dialled).
func (g *Guard) CheckURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	if u.Scheme == "http" && !g.AllowHTTP {
		return errors.New("must be https (plain http is not allowed by this server's configuration)")
	}
	host := u.Hostname()
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		host = "127.0.0.1"
	}
	if a, err := netip.ParseAddr(host); err == nil {
		if reason := g.refuse(a); reason != "" {
			return fmt.Errorf("%w: %s is %s", ErrBlocked, a, reason)
		}
	}
	return nil
}

// control is a net.Dialer Control function: it runs after name resolution,
// once per address tried.
func (g *Guard) control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: cannot read address %q", ErrBlocked, address)
	}
	if reason := g.refuse(ap.Addr()); reason != "" {
		return fmt.Errorf("%w: %s is %s", ErrBlocked, ap.Addr(), reason)
	}
	return nil
}

// Dialer returns a dialer that applies the guard.
func (g *Guard) Dialer() *net.Dialer {
	return &net.Dialer{Control: g.control}
}

// refuse returns why a is refused, or "" when it may be reached.
func (g *Guard) refuse(a netip.Addr) string {
	a = a.Unmap()
	for _, p := range g.Allow {
		if p.Contains(a) {
			return ""
		}
	}
	return Refused(a)
}

var (
	v4Special = map[string]netip.Prefix{
		"this network":          netip.MustParsePrefix("0.0.0.0/8"),
		"shared (CGNAT)":        netip.MustParsePrefix("100.64.0.0/10"),
		"IETF protocol space":   netip.MustParsePrefix("192.0.0.0/24"),
		"documentation":         netip.MustParsePrefix("192.0.2.0/24"),
		"benchmarking":          netip.MustParsePrefix("198.18.0.0/15"),
		"documentation (2)":     netip.MustParsePrefix("198.51.100.0/24"),
		"documentation (3)":     netip.MustParsePrefix("203.0.113.0/24"),
		"reserved or broadcast": netip.MustParsePrefix("240.0.0.0/4"),
	}
	nat64       = netip.MustParsePrefix("64:ff9b::/96")
	nat64Local  = netip.MustParsePrefix("64:ff9b:1::/48")
	sixToFour   = netip.MustParsePrefix("2002::/16")
	teredo      = netip.MustParsePrefix("2001::/32")
	v6Doc       = netip.MustParsePrefix("2001:db8::/32")
	v6Discard   = netip.MustParsePrefix("100::/64")
	v4Compat    = netip.MustParsePrefix("::/96")
	v6Benchmark = netip.MustParsePrefix("2001:2::/48")
)

// Refused returns why an address is not a public destination, or "".
func Refused(a netip.Addr) string {
	a = a.Unmap()
	if a.Is4() {
		return refused4(a)
	}
	switch {
	case !a.IsValid():
		return "not an address"
	case a.IsUnspecified():
		return "unspecified"
	case a.IsLoopback():
		return "loopback"
	case a.IsLinkLocalUnicast(), a.IsLinkLocalMulticast():
		return "link-local"
	case a.IsMulticast():
		return "multicast"
	case a.IsPrivate():
		return "private (unique local)"
	case nat64.Contains(a):
		b := a.As16()
		if r := refused4(netip.AddrFrom4([4]byte(b[12:16]))); r != "" {
			return "the NAT64 form of a " + r + " address"
		}
		return ""
	case nat64Local.Contains(a):
		return "local-use NAT64"
	case sixToFour.Contains(a):
		b := a.As16()
		if r := refused4(netip.AddrFrom4([4]byte(b[2:6]))); r != "" {
			return "the 6to4 form of a " + r + " address"
		}
		return ""
	case teredo.Contains(a):
		return "Teredo"
	case v4Compat.Contains(a):
		return "IPv4-compatible"
	case v6Doc.Contains(a), v6Discard.Contains(a), v6Benchmark.Contains(a):
		return "reserved"
	case !a.IsGlobalUnicast():
		return "not global unicast"
	}
	return ""
}

func refused4(a netip.Addr) string {
	switch {
	case a.IsUnspecified():
		return "unspecified"
	case a.IsLoopback():
		return "loopback"
	case a.IsPrivate():
		return "private"
	case a.IsLinkLocalUnicast():
		return "link-local (cloud metadata lives here)"
	case a.IsMulticast(), a.IsLinkLocalMulticast():
		return "multicast"
	}
	for name, p := range v4Special {
		if p.Contains(a) {
			return name
		}
	}
	return ""
}
