// bench-rule-hits: what the per-rule hit counter (kernel/rule_hits.hpp)
// adds to a verdict other than allow, on this host's kernel, measured by
// the kernel itself (BPF_PROG_TEST_RUN's per-run duration). Three programs
// (bench/rule_hits.bpf.c), alternated batch by batch in the same run:
//   (a) the verdict's stats counter alone — the baseline;
//   (b) the same plus the rule's counter (bw_count_verdict, as the hooks do);
//   (c) the stats counter plus a ring buffer record reserved and discarded,
//       the part of every reported verdict the counter sits beside.
// Prints ns per run and the ratios (b)/(a) and ((b)-(a))/((c)-(a)). Each
// batch proves it ran what it timed: the rule's counter grew by exactly
// the batch's runs after (b), the stats counter after (a) and (c).
// Root; loads nothing that attaches anywhere.
#include "bulwark/abi.h"
#include "rule_hits.skel.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

uint64_t percpu_sum(int fd, const void* key)
{
    const int cpus = libbpf_num_possible_cpus();
    std::vector<uint64_t> v(static_cast<size_t>(cpus > 0 ? cpus : 1), 0);
    if (bpf_map_lookup_elem(fd, key, v.data()) != 0) return 0;
    uint64_t n = 0;
    for (uint64_t x : v) n += x;
    return n;
}

// Average ns per run over `runs` runs of `prog`.
double run_batch(const bpf_program* prog, uint32_t runs)
{
    unsigned char packet[64] = {};
    LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = packet, .data_size_in = sizeof packet, .repeat = static_cast<int>(runs));
    if (bpf_prog_test_run_opts(bpf_program__fd(prog), &opts) != 0) {
        std::perror("BPF_PROG_TEST_RUN");
        std::exit(1);
    }
    return double(opts.duration);  // the kernel's average per run, ns
}

double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv)
{
    uint32_t runs = 1'000'000, batches = 9;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--runs")) runs = static_cast<uint32_t>(std::atoi(argv[i + 1]));
        else if (!std::strcmp(argv[i], "--batches")) batches = static_cast<uint32_t>(std::atoi(argv[i + 1]));
    }
    rule_hits_bpf* skel = rule_hits_bpf__open_and_load();
    if (!skel) {
        std::fprintf(stderr, "bench-rule-hits: cannot load bench/rule_hits.bpf.c (root needed)\n");
        return 1;
    }
    const int stats = bpf_map__fd(skel->maps.stats), hits = bpf_map__fd(skel->maps.rule_hits);
    const uint32_t denied = BW_STAT_DENIED;
    bw_rule_hit_key key{};
    key.generation = 1;
    key.policy = 0;
    key.entry = 7;
    key.column = BW_COL_CONNECT;
    key.kind = BW_KIND_CONNECT;
    key.verdict = BW_VERDICT_DENY;

    std::vector<double> a, b, c;
    for (uint32_t batch = 0; batch < batches; ++batch) {
        uint64_t before = percpu_sum(stats, &denied);
        a.push_back(run_batch(skel->progs.verdict_only, runs));
        if (percpu_sum(stats, &denied) - before != runs) {
            std::fprintf(stderr, "batch %u: (a) did not count every run\n", batch);
            return 1;
        }
        before = percpu_sum(hits, &key);
        b.push_back(run_batch(skel->progs.verdict_rule, runs));
        if (percpu_sum(hits, &key) - before != runs) {
            std::fprintf(stderr, "batch %u: (b) the rule's counter did not count every run\n", batch);
            return 1;
        }
        before = percpu_sum(stats, &denied);
        c.push_back(run_batch(skel->progs.verdict_event, runs));
        if (percpu_sum(stats, &denied) - before != runs) {
            std::fprintf(stderr, "batch %u: (c) did not count every run\n", batch);
            return 1;
        }
        std::printf("batch %u: (a) %.1f ns  (b) %.1f ns  (c) %.1f ns per run\n", batch, a.back(), b.back(), c.back());
    }
    const double ma = median(a), mb = median(b), mc = median(c);
    std::printf("median of %u batches of %u runs: (a) stats counter %.1f ns, (b) + rule counter %.1f ns, "
                "(c) + ring buffer record %.1f ns\n",
                batches, runs, ma, mb, mc);
    std::printf("rule counter: +%.1f ns per verdict; (b)/(a) = %.2f; the counter costs %.2f of what reserving "
                "the verdict's record costs\n",
                mb - ma, ma > 0 ? mb / ma : 0, mc > ma ? (mb - ma) / (mc - ma) : 0);
    rule_hits_bpf__destroy(skel);
    return 0;
}
