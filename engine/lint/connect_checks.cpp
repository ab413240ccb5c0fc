// Overlapping port ranges. Within one rule they are redundant. Across two
// rules of one policy at the same CIDR they are often a misunderstanding:
// there the stronger action wins on the overlap whatever the ranges'
// widths — a narrower range is not more specific, only a narrower CIDR is.
// (Rules that lose everywhere are shadow_checks' business; an exception
// carved out of a wider range by a stronger action is what it looks like,
// and not reported.)
#include "lint/checks.hpp"

namespace bulwark::lint {
namespace {

std::string range_text(const PortRange& r)
{
    return r.first == r.last ? std::to_string(r.first) : std::to_string(r.first) + "-" + std::to_string(r.last);
}

bool overlap(const PortRange& a, const PortRange& b)
{
    return a.first <= b.last && b.first <= a.last;
}

bool within(const PortRange& inner, const PortRange& outer)
{
    return outer.first <= inner.first && inner.last <= outer.last;
}

}  // namespace

void connect_checks(Context& ctx)
{
    for (const Policy& p : ctx.policies) {
        for (const auto& r : p.connects) {
            for (size_t b = 0; b < r.ports.size(); ++b) {
                for (size_t a = 0; a < b; ++a) {
                    if (!overlap(r.ports[a], r.ports[b])) continue;
                    ctx.out.warning(r.ports[b].pos, "ports " + range_text(r.ports[b]) + " overlap " +
                                                        range_text(r.ports[a]) + " (column " +
                                                        std::to_string(r.ports[a].pos.column) +
                                                        ") in the same rule; merge them into one range");
                    break;
                }
            }
        }
        // Two rules at one CIDR: the weaker loses the overlap.
        for (size_t w = 0; w < p.connects.size(); ++w) {
            for (size_t s = 0; s < p.connects.size(); ++s) {
                const auto& weak = p.connects[w];
                const auto& strong = p.connects[s];
                if (s == w || strength(strong.action) <= strength(weak.action) || !(weak.protocols & strong.protocols))
                    continue;
                bool same_cidr = false;
                for (const auto& x : weak.cidrs)
                    for (const auto& y : strong.cidrs)
                        same_cidr = same_cidr || parse_network(x.value) == parse_network(y.value);
                if (!same_cidr) continue;
                for (const auto& wr : weak.ports) {
                    for (const auto& sr : strong.ports) {
                        if (!overlap(wr, sr) || within(sr, wr)) continue;  // disjoint, or a carved exception
                        const PortRange both{std::max(wr.first, sr.first), std::min(wr.last, sr.last), {}};
                        ctx.out.warning(wr.pos, "ports " + range_text(both) + " of this " + action_name(weak.action) +
                                                    " rule are also covered by the " + action_name(strong.action) +
                                                    " rule at line " + std::to_string(strong.pos.line) +
                                                    " for the same CIDR; there " + action_name(strong.action) +
                                                    " wins (at one CIDR the action decides, not the narrower range)");
                        break;
                    }
                }
            }
        }
    }
}

}  // namespace bulwark::lint
