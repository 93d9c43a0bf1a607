// latency_probe: measures every round trip of one request at a time (pipeline
// 1) against a Redis-protocol server, to find pauses (stop-the-world resizes,
// long commands, scheduling stalls) while something else loads the server.
//
//   latency_probe [--host H] [--port P] [--cmd get|ping] [--key K]
//                 [--duration SECONDS] [--top N]
//
// It sends GET K (or PING) in a tight loop on one connection, timing each
// request from the write to the end of its reply with a monotonic clock, and
// stops after --duration seconds (default: until SIGINT or SIGTERM). On exit
// it prints a human summary on lines starting with '#', the N longest round
// trips with their time since start, and one machine-readable line:
//
//   probe samples=... seconds=... min_us=... p50_us=... p99_us=...
//         p999_us=... max_us=... max_at_s=... over_1ms=... over_10ms=...
//
// Plain blocking sockets, no client library: the probe's own jitter is a few
// microseconds, far below the 10 ms it is meant to detect.
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

namespace {

volatile std::sig_atomic_t g_stop = 0;

void on_signal(int) { g_stop = 1; }

[[noreturn]] void die(const std::string& what) {
    std::fprintf(stderr, "latency_probe: %s\n", what.c_str());
    std::exit(1);
}

// Length of the first complete RESP reply in [p, p+n), or 0 if it is not
// complete yet. Handles simple strings, errors, integers, bulk strings and
// (nested) arrays, which is all GET and PING can return.
size_t reply_length(const char* p, size_t n) {
    if (n == 0) return 0;
    const void* crlf_pos = nullptr;
    for (size_t i = 0; i + 1 < n; ++i) {
        if (p[i] == '\r' && p[i + 1] == '\n') { crlf_pos = p + i; break; }
    }
    if (crlf_pos == nullptr) return 0;
    const size_t header = static_cast<const char*>(crlf_pos) - p + 2;
    switch (p[0]) {
        case '+': case '-': case ':': case '_': case ',': case '#':
            return header;
        case '$': {
            const long len = std::strtol(p + 1, nullptr, 10);
            if (len < 0) return header;
            const size_t total = header + static_cast<size_t>(len) + 2;
            return n >= total ? total : 0;
        }
        case '*': {
            const long count = std::strtol(p + 1, nullptr, 10);
            size_t used = header;
            for (long i = 0; i < count; ++i) {
                const size_t part = reply_length(p + used, n - used);
                if (part == 0) return 0;
                used += part;
            }
            return used;
        }
        default:
            die("unexpected reply byte '" + std::string(1, p[0]) + "'");
    }
}

std::string bulk_command(const std::vector<std::string>& args) {
    std::string out = "*" + std::to_string(args.size()) + "\r\n";
    for (const auto& a : args) out += "$" + std::to_string(a.size()) + "\r\n" + a + "\r\n";
    return out;
}

int connect_to(const std::string& host, const std::string& port) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    if (int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &res); rc != 0) {
        die("cannot resolve " + host + ": " + gai_strerror(rc));
    }
    int fd = -1;
    for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
        fd = ::socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd < 0) continue;
        if (::connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) break;
        ::close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) die("cannot connect to " + host + ":" + port + ": " + std::strerror(errno));
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

struct Pause {
    double at_s;
    uint64_t ns;
};

}  // namespace

int main(int argc, char** argv) {
    std::string host = "127.0.0.1", port = "6379", cmd = "get", key = "latency-probe";
    double duration_s = 0;  // 0 = until a signal
    size_t top = 10;
    for (int i = 1; i < argc; ++i) {
        const std::string_view a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) die("missing value after " + std::string(a));
            return argv[++i];
        };
        if (a == "--host" || a == "-h") host = value();
        else if (a == "--port" || a == "-p") port = value();
        else if (a == "--cmd") cmd = value();
        else if (a == "--key") key = value();
        else if (a == "--duration") duration_s = std::atof(value().c_str());
        else if (a == "--top") top = static_cast<size_t>(std::atol(value().c_str()));
        else if (a == "--help") {
            std::puts("usage: latency_probe [--host H] [--port P] [--cmd get|ping] [--key K] "
                      "[--duration SECONDS] [--top N]");
            return 0;
        } else die("unknown argument " + std::string(a));
    }
    if (cmd != "get" && cmd != "ping") die("--cmd must be get or ping");

    struct sigaction sa{};
    sa.sa_handler = on_signal;  // no SA_RESTART: a blocked recv returns EINTR
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);

    const int fd = connect_to(host, port);
    const std::string request = cmd == "get" ? bulk_command({"GET", key}) : bulk_command({"PING"});

    using clock = std::chrono::steady_clock;
    std::vector<uint32_t> samples_ns;  // saturates at ~4.29 s per sample
    samples_ns.reserve(1 << 22);
    std::vector<Pause> longest;  // the `top` longest, unsorted
    std::vector<char> buf(1 << 16);
    uint64_t max_ns = 0;
    double max_at_s = 0;

    const auto start = clock::now();
    std::fprintf(stderr, "# latency_probe: connected to %s:%s, sending %s\n", host.c_str(),
                 port.c_str(), cmd == "get" ? ("GET " + key).c_str() : "PING");
    while (!g_stop) {
        const auto t0 = clock::now();
        if (duration_s > 0 && std::chrono::duration<double>(t0 - start).count() >= duration_s) break;
        size_t sent = 0;
        while (sent < request.size()) {
            const ssize_t w = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
            if (w < 0) {
                if (errno == EINTR) { if (g_stop) break; continue; }
                die(std::string("send: ") + std::strerror(errno));
            }
            sent += static_cast<size_t>(w);
        }
        if (g_stop) break;
        size_t have = 0, len = 0;
        bool interrupted = false;
        while ((len = reply_length(buf.data(), have)) == 0) {
            if (have == buf.size()) buf.resize(buf.size() * 2);
            const ssize_t r = ::recv(fd, buf.data() + have, buf.size() - have, 0);
            if (r < 0 && errno == EINTR) {
                if (g_stop) { interrupted = true; break; }
                continue;
            }
            if (r <= 0) die(r == 0 ? "server closed the connection" : std::string("recv: ") + std::strerror(errno));
            have += static_cast<size_t>(r);
        }
        if (interrupted) break;
        const auto t1 = clock::now();
        if (buf[0] == '-') die("server replied " + std::string(buf.data(), len - 2));
        if (len != have) die("unexpected extra bytes after the reply");

        const uint64_t ns = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count());
        samples_ns.push_back(static_cast<uint32_t>(std::min<uint64_t>(ns, UINT32_MAX)));
        const double at_s = std::chrono::duration<double>(t0 - start).count();
        if (ns > max_ns) { max_ns = ns; max_at_s = at_s; }
        if (top > 0) {
            if (longest.size() < top) {
                longest.push_back({at_s, ns});
            } else {
                auto it = std::min_element(longest.begin(), longest.end(),
                                           [](const Pause& x, const Pause& y) { return x.ns < y.ns; });
                if (ns > it->ns) *it = {at_s, ns};
            }
        }
    }
    const double seconds = std::chrono::duration<double>(clock::now() - start).count();
    ::close(fd);

    if (samples_ns.empty()) die("no complete round trip measured");
    uint64_t over_1ms = 0, over_10ms = 0;
    for (uint32_t s : samples_ns) {
        over_1ms += s > 1'000'000;
        over_10ms += s > 10'000'000;
    }
    std::vector<uint32_t> sorted = samples_ns;
    std::sort(sorted.begin(), sorted.end());
    auto pct_us = [&](double q) {
        size_t idx = static_cast<size_t>(q * static_cast<double>(sorted.size() - 1) + 0.5);
        return sorted[std::min(idx, sorted.size() - 1)] / 1000.0;
    };
    std::sort(longest.begin(), longest.end(), [](const Pause& x, const Pause& y) { return x.ns > y.ns; });

    std::printf("# %zu round trips in %.1f s; longest:", samples_ns.size(), seconds);
    for (const Pause& p : longest) std::printf(" %.2fms@%.2fs", p.ns / 1e6, p.at_s);
    std::printf("\n");
    std::printf("probe samples=%zu seconds=%.2f min_us=%.1f p50_us=%.1f p99_us=%.1f p999_us=%.1f "
                "max_us=%.1f max_at_s=%.2f over_1ms=%llu over_10ms=%llu\n",
                samples_ns.size(), seconds, sorted.front() / 1000.0, pct_us(0.50), pct_us(0.99),
                pct_us(0.999), max_ns / 1000.0, max_at_s,
                static_cast<unsigned long long>(over_1ms), static_cast<unsigned long long>(over_10ms));
    return 0;
}
