// bench-chapter-openat: the tiny loader of bench/chapter_openat.bpf.c, the
// tutorial chapter's sys_enter_openat monitor (not part of bulwark; used by
// bench/monitors as configuration (b)).
//
//   bench-chapter-openat                 the chapter's program: "/etc/passwd"
//   bench-chapter-openat --paths FILE    the same compare over every line of FILE
//
// Attaches, prints "ready" on stdout, consumes and counts the events until
// SIGINT/SIGTERM, then prints "events N" and exits 0.
#include "chapter_openat.skel.h"

#include <algorithm>
#include <bpf/libbpf.h>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

namespace {

volatile sig_atomic_t stop = 0;

void on_signal(int) { stop = 1; }

int count_event(void* ctx, void*, size_t)
{
    ++*static_cast<unsigned long long*>(ctx);
    return 0;
}

struct chapter_path {
    uint32_t len;
    char path[256];
};

}  // namespace

int main(int argc, char** argv)
{
    std::vector<std::string> paths;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--paths") == 0 && i + 1 < argc) {
            std::ifstream in(argv[++i]);
            if (!in) {
                std::fprintf(stderr, "bench-chapter-openat: cannot read %s\n", argv[i]);
                return 2;
            }
            for (std::string line; std::getline(in, line);)
                if (!line.empty()) paths.push_back(line);
        } else {
            std::fprintf(stderr, "usage: bench-chapter-openat [--paths FILE]\n");
            return 2;
        }
    }
    const bool many = !paths.empty();
    chapter_openat_bpf* skel = chapter_openat_bpf__open();
    if (!skel) {
        std::perror("bench-chapter-openat: open");
        return 1;
    }
    skel->rodata->nr_paths = static_cast<uint32_t>(paths.size());
    bpf_program__set_autoload(skel->progs.chapter_one, !many);
    bpf_program__set_autoload(skel->progs.chapter_many, many);
    if (chapter_openat_bpf__load(skel) != 0) {
        std::perror("bench-chapter-openat: load");
        return 1;
    }
    for (uint32_t i = 0; i < paths.size(); ++i) {
        chapter_path p{};
        p.len = static_cast<uint32_t>(std::min<size_t>(paths[i].size(), sizeof p.path - 1));
        std::memcpy(p.path, paths[i].data(), p.len);
        if (bpf_map__update_elem(skel->maps.watched_paths, &i, sizeof i, &p, sizeof p, BPF_ANY) != 0) {
            std::perror("bench-chapter-openat: watched_paths");
            return 1;
        }
    }
    bpf_link* link = bpf_program__attach(many ? skel->progs.chapter_many : skel->progs.chapter_one);
    if (!link) {
        std::perror("bench-chapter-openat: attach");
        return 1;
    }
    unsigned long long events = 0;
    ring_buffer* rb = ring_buffer__new(bpf_map__fd(skel->maps.security_events), count_event, &events, nullptr);
    if (!rb) {
        std::perror("bench-chapter-openat: ring buffer");
        return 1;
    }
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    std::printf("ready\n");
    std::fflush(stdout);
    while (!stop) ring_buffer__poll(rb, 100);
    bpf_link__destroy(link);
    ring_buffer__consume(rb);
    std::printf("events %llu\n", events);
    ring_buffer__free(rb);
    chapter_openat_bpf__destroy(skel);
    return 0;
}
