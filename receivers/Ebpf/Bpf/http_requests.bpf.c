// SPDX-License-Identifier: GPL-2.0
// otelai bundled probe: plain-text HTTP/1.1 requests served by selected processes.
//
// Attaches to syscall tracepoints only (a stable ABI that needs no BTF). Per connection (tgid, fd) the kernel side
// keeps the request in progress and emits one `struct http_event` per completed request to the `events` perf event
// array. Pairing happens here, in one map value per connection, because a connection's syscalls are serialised by
// the thread using it: no cross-CPU reordering can pair a response with the wrong request.
//
// A request starts at the exit of the read that returns its method line. Its end is the exit of the last write of
// the response. "Last" is known when, in this order of preference:
//   1. the response's Content-Length (parsed from the first response write) has been written in full;
//   2. without Content-Length, a write ends with the chunked terminator "0\r\n\r\n";
//   3. the next request's method line is read on the same connection (keep-alive);
//   4. the connection is closed.
// Timestamps are those of the last write in every case; only the delivery delay differs.
// Outputs that fail (perf buffer full) are counted in `output_failures`, which the receiver exports.

#include <linux/bpf.h>
#include <linux/types.h>
#include <bpf/bpf_helpers.h>

#define PATH_LEN 80
#define METHOD_LEN 8
#define HEADER_SCAN 256

enum io_kind { IO_BUF = 1, IO_IOVEC = 2, IO_MSGHDR = 3, IO_ACCEPT = 4 };
enum end_reason { END_CONTENT_LENGTH = 1, END_CHUNKED = 2, END_NEXT_REQUEST = 3, END_CLOSE = 4 };

// Layout shared with the receiver (EventLayout.HttpRequests): little-endian, 168 bytes, no implicit padding.
struct http_event {
    __u64 start_ns;       // 0   exit of the read that returned the method line (CLOCK_MONOTONIC)
    __u64 end_ns;         // 8   exit of the last response write
    __u64 first_byte_ns;  // 16  entry of the first response write
    __u64 bytes_in;       // 24  request bytes read (request line, headers, body)
    __u64 bytes_out;      // 32  response bytes written
    __u32 pid;            // 40  tgid
    __u32 tid;            // 44  thread that read the request
    __u32 fd;             // 48
    __u16 status;         // 52  HTTP status code, 0 when the response had no status line
    __u16 peer_port;      // 54  host byte order, 0 when the accept was not seen
    __u8 peer_family;     // 56  AF_INET (2), AF_INET6 (10) or 0
    __u8 end_reason;      // 57  enum end_reason
    __u8 pad[6];          // 58
    __u8 peer_addr[16];   // 64  IPv4 in the first 4 bytes, or IPv6
    char method[METHOD_LEN]; // 80
    char path[PATH_LEN];  // 88  bytes after "METHOD ", not terminated: the receiver cuts at ' ', '?', '\r' or NUL
};

struct conn_key {
    __u32 tgid;
    __u32 fd;
};

struct conn_state {
    struct http_event ev;
    __u64 expected_out;   // header length + Content-Length when known
    __u8 active;          // a request line was read and its response is not finished
    __u8 pad[7];
};

struct io_args {
    __u64 ptr;            // buffer, iovec array, msghdr or sockaddr
    __u64 enter_ns;
    __u32 fd;
    __u32 kind;
};

struct syscall_enter {
    __u64 common;
    long id;
    unsigned long args[6];
};

struct syscall_exit {
    __u64 common;
    long id;
    long ret;
};

struct scratch {
    char buf[HEADER_SCAN];
};

struct {
    __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
    __uint(key_size, sizeof(__u32));
    __uint(value_size, sizeof(__u32));
} events SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, __u64);
} output_failures SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 4096);
    __type(key, __u32);
    __type(value, __u8);
} traced_tgids SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 256);
    __type(key, __u64);
    __type(value, __u8);
} traced_cgroups SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 16384);
    __type(key, __u64);
    __type(value, struct io_args);
} pending_io SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __uint(max_entries, 65536);
    __type(key, struct conn_key);
    __type(value, struct conn_state);
} connections SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct scratch);
} scratch_buf SEC(".maps");

static __always_inline int is_traced(__u32 tgid)
{
    if (bpf_map_lookup_elem(&traced_tgids, &tgid))
        return 1;
    __u64 cgroup = bpf_get_current_cgroup_id();
    return bpf_map_lookup_elem(&traced_cgroups, &cgroup) != 0;
}

static __always_inline int remember_io(struct syscall_enter *ctx, __u32 kind)
{
    __u64 id = bpf_get_current_pid_tgid();
    if (!is_traced(id >> 32))
        return 0;
    struct io_args io = {
        .ptr = ctx->args[1],
        .enter_ns = bpf_ktime_get_ns(),
        .fd = (__u32)ctx->args[0],
        .kind = kind,
    };
    bpf_map_update_elem(&pending_io, &id, &io, BPF_ANY);
    return 0;
}

// The user buffer holding the first bytes of the transfer.
static __always_inline __u64 data_pointer(struct io_args *io)
{
    __u64 iov = io->ptr;
    if (io->kind == IO_BUF)
        return io->ptr;
    if (io->kind == IO_MSGHDR) {
        // struct msghdr { void *msg_name; int msg_namelen; struct iovec *msg_iov; ... }
        if (bpf_probe_read_user(&iov, sizeof(iov), (void *)(io->ptr + 16)))
            return 0;
    }
    __u64 base = 0; // struct iovec { void *iov_base; size_t iov_len; }
    if (bpf_probe_read_user(&base, sizeof(base), (void *)iov))
        return 0;
    return base;
}

static __always_inline int method_length(const char *h)
{
    if (h[0] == 'G' && h[1] == 'E' && h[2] == 'T' && h[3] == ' ') return 3;
    if (h[0] == 'P' && h[1] == 'O' && h[2] == 'S' && h[3] == 'T' && h[4] == ' ') return 4;
    if (h[0] == 'P' && h[1] == 'U' && h[2] == 'T' && h[3] == ' ') return 3;
    if (h[0] == 'H' && h[1] == 'E' && h[2] == 'A' && h[3] == 'D' && h[4] == ' ') return 4;
    if (h[0] == 'P' && h[1] == 'A' && h[2] == 'T' && h[3] == 'C' && h[4] == 'H' && h[5] == ' ') return 5;
    if (h[0] == 'D' && h[1] == 'E' && h[2] == 'L' && h[3] == 'E' && h[4] == 'T' && h[5] == 'E' && h[6] == ' ') return 6;
    if (h[0] == 'O' && h[1] == 'P' && h[2] == 'T' && h[3] == 'I' && h[4] == 'O' && h[5] == 'N' && h[6] == 'S' && h[7] == ' ') return 7;
    return 0;
}

static __always_inline void finish(void *ctx, struct conn_state *c, __u8 reason)
{
    c->ev.end_reason = reason;
    if (bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, &c->ev, sizeof(c->ev)) < 0) {
        __u32 zero = 0;
        __u64 *failures = bpf_map_lookup_elem(&output_failures, &zero);
        if (failures)
            __sync_fetch_and_add(failures, 1);
    }
    c->active = 0;
    c->expected_out = 0;
}

static __always_inline void on_input(void *ctx, __u64 id, struct io_args *io, long ret, __u64 now)
{
    struct conn_key key = { .tgid = id >> 32, .fd = io->fd };
    struct conn_state *c = bpf_map_lookup_elem(&connections, &key);
    __u64 data = data_pointer(io);
    char head[METHOD_LEN] = {};
    int mlen = 0;
    if (data && ret >= 4 && !bpf_probe_read_user(head, sizeof(head), (void *)data))
        mlen = method_length(head);
    if (!mlen) {
        if (c && c->active && !c->ev.first_byte_ns)
            c->ev.bytes_in += ret; // headers or body of the request in progress
        return;
    }
    if (c && c->active && c->ev.first_byte_ns)
        finish(ctx, c, END_NEXT_REQUEST);
    if (!c) {
        struct conn_state fresh = {};
        bpf_map_update_elem(&connections, &key, &fresh, BPF_NOEXIST);
        c = bpf_map_lookup_elem(&connections, &key);
        if (!c)
            return;
    }
    c->ev.start_ns = now;
    c->ev.end_ns = 0;
    c->ev.first_byte_ns = 0;
    c->ev.bytes_in = ret;
    c->ev.bytes_out = 0;
    c->ev.pid = id >> 32;
    c->ev.tid = (__u32)id;
    c->ev.fd = io->fd;
    c->ev.status = 0;
    c->ev.end_reason = 0;
    __builtin_memset(c->ev.method, 0, METHOD_LEN);
    __builtin_memcpy(c->ev.method, head, METHOD_LEN);
    c->ev.method[mlen] = 0;
    __builtin_memset(c->ev.path, 0, PATH_LEN);
    __u64 available = ret - mlen - 1;
    if (available > PATH_LEN)
        available = PATH_LEN;
    bpf_probe_read_user(c->ev.path, available & 0x7f, (void *)(data + mlen + 1));
    c->expected_out = 0;
    c->active = 1;
}

struct header_scan {
    const char *buf;
    __u32 len;
    __u32 cl_match;       // characters of "\ncontent-length:" matched so far
    __u32 crlf_match;     // characters of "\r\n\r\n" matched so far
    __u32 header_len;     // offset after the blank line, 0 when not seen
    __u64 content_length;
    __u8 in_number;       // parsing the Content-Length value
    __u8 has_length;
};

// "\ncontent-length:" one character at a time (a switch, not a string constant: no .rodata map needed).
#define CONTENT_LENGTH_LEN 16
static __always_inline char content_length_char(__u32 i)
{
    switch (i) {
    case 0: return '\n';
    case 1: return 'c';
    case 2: return 'o';
    case 3: return 'n';
    case 4: return 't';
    case 5: return 'e';
    case 6: return 'n';
    case 7: return 't';
    case 8: return '-';
    case 9: return 'l';
    case 10: return 'e';
    case 11: return 'n';
    case 12: return 'g';
    case 13: return 't';
    case 14: return 'h';
    default: return ':';
    }
}

static long scan_header_byte(__u32 i, struct header_scan *s)
{
    if (i >= s->len || i >= HEADER_SCAN)
        return 1;
    __u64 idx = i;
    asm volatile("%0 &= 0xff" : "+r"(idx)); // keeps the bound visible to the verifier after clang's optimisations
    char ch = s->buf[idx];
    if (s->in_number) {
        if (ch >= '0' && ch <= '9') {
            s->content_length = s->content_length * 10 + (ch - '0');
            s->has_length = 1;
        } else if (ch != ' ' || s->has_length) {
            s->in_number = 0;
        }
    }
    char lower = (ch >= 'A' && ch <= 'Z') ? ch + 32 : ch;
    __u32 m = s->cl_match;
    if (m < CONTENT_LENGTH_LEN && lower == content_length_char(m)) {
        s->cl_match = m + 1;
        if (m + 1 == CONTENT_LENGTH_LEN) {
            s->in_number = 1;
            s->content_length = 0;
            s->has_length = 0;
            s->cl_match = 0;
        }
    } else {
        s->cl_match = ch == '\n' ? 1 : 0;
    }
    __u32 r = s->crlf_match;
    if ((ch == '\r' && (r == 0 || r == 2)) || (ch == '\n' && (r == 1 || r == 3))) {
        s->crlf_match = r + 1;
        if (r + 1 == 4) {
            s->header_len = i + 1;
            return 1;
        }
    } else {
        s->crlf_match = ch == '\r' ? 1 : 0;
    }
    return 0;
}

static __always_inline void on_first_response_write(struct conn_state *c, __u64 data, long ret)
{
    __u32 zero = 0;
    struct scratch *sc = bpf_map_lookup_elem(&scratch_buf, &zero);
    if (!sc)
        return;
    __u32 n = ret > HEADER_SCAN ? HEADER_SCAN : (__u32)ret;
    if (bpf_probe_read_user(sc->buf, n & (2 * HEADER_SCAN - 1), (void *)data))
        return;
    if (n < 12 || sc->buf[0] != 'H' || sc->buf[1] != 'T' || sc->buf[2] != 'T' || sc->buf[3] != 'P' || sc->buf[4] != '/')
        return;
    char d0 = sc->buf[9], d1 = sc->buf[10], d2 = sc->buf[11];
    if (d0 >= '0' && d0 <= '9' && d1 >= '0' && d1 <= '9' && d2 >= '0' && d2 <= '9')
        c->ev.status = (d0 - '0') * 100 + (d1 - '0') * 10 + (d2 - '0');
    struct header_scan s = { .buf = sc->buf, .len = n };
    bpf_loop(HEADER_SCAN, scan_header_byte, &s, 0);
    if (s.header_len && s.has_length)
        c->expected_out = s.header_len + s.content_length;
}

static __always_inline void on_output(void *ctx, __u64 id, struct io_args *io, long ret, __u64 now)
{
    struct conn_key key = { .tgid = id >> 32, .fd = io->fd };
    struct conn_state *c = bpf_map_lookup_elem(&connections, &key);
    if (!c || !c->active)
        return;
    __u64 data = data_pointer(io);
    if (!c->ev.first_byte_ns) {
        c->ev.first_byte_ns = io->enter_ns;
        if (data)
            on_first_response_write(c, data, ret);
    }
    c->ev.bytes_out += ret;
    c->ev.end_ns = now;
    if (c->expected_out) {
        if (c->ev.bytes_out >= c->expected_out)
            finish(ctx, c, END_CONTENT_LENGTH);
        return;
    }
    char tail[5] = {};
    if (data && ret >= 5 && io->kind == IO_BUF && !bpf_probe_read_user(tail, sizeof(tail), (void *)(data + ret - 5)) &&
        tail[0] == '0' && tail[1] == '\r' && tail[2] == '\n' && tail[3] == '\r' && tail[4] == '\n')
        finish(ctx, c, END_CHUNKED);
}

static __always_inline int complete_io(struct syscall_exit *ctx, int output)
{
    __u64 id = bpf_get_current_pid_tgid();
    struct io_args *io = bpf_map_lookup_elem(&pending_io, &id);
    if (!io)
        return 0;
    long ret = ctx->ret;
    if (ret > 0) {
        __u64 now = bpf_ktime_get_ns();
        if (output)
            on_output(ctx, id, io, ret, now);
        else
            on_input(ctx, id, io, ret, now);
    }
    bpf_map_delete_elem(&pending_io, &id);
    return 0;
}

#define TRACE_IO(name, kind, output)                                                          \
    SEC("tracepoint/syscalls/sys_enter_" #name)                                               \
    int enter_##name(struct syscall_enter *ctx) { return remember_io(ctx, kind); }            \
    SEC("tracepoint/syscalls/sys_exit_" #name)                                                \
    int exit_##name(struct syscall_exit *ctx) { return complete_io(ctx, output); }

TRACE_IO(read, IO_BUF, 0)
TRACE_IO(recvfrom, IO_BUF, 0)
TRACE_IO(readv, IO_IOVEC, 0)
TRACE_IO(recvmsg, IO_MSGHDR, 0)
TRACE_IO(write, IO_BUF, 1)
TRACE_IO(sendto, IO_BUF, 1)
TRACE_IO(writev, IO_IOVEC, 1)
TRACE_IO(sendmsg, IO_MSGHDR, 1)

// accept/accept4: remember the peer address of the new connection fd.
static __always_inline int complete_accept(struct syscall_exit *ctx)
{
    __u64 id = bpf_get_current_pid_tgid();
    struct io_args *io = bpf_map_lookup_elem(&pending_io, &id);
    if (!io)
        return 0;
    long fd = ctx->ret;
    __u64 addr = io->ptr;
    bpf_map_delete_elem(&pending_io, &id);
    if (fd < 0 || !addr)
        return 0;
    struct conn_state fresh = {};
    __u16 family = 0;
    bpf_probe_read_user(&family, sizeof(family), (void *)addr);
    __u16 port_be = 0;
    bpf_probe_read_user(&port_be, sizeof(port_be), (void *)(addr + 2));
    fresh.ev.peer_port = __builtin_bswap16(port_be);
    fresh.ev.peer_family = (__u8)family;
    if (family == 2) // struct sockaddr_in { family; port; in_addr }
        bpf_probe_read_user(fresh.ev.peer_addr, 4, (void *)(addr + 4));
    else if (family == 10) // struct sockaddr_in6 { family; port; flowinfo; in6_addr }
        bpf_probe_read_user(fresh.ev.peer_addr, 16, (void *)(addr + 8));
    struct conn_key key = { .tgid = id >> 32, .fd = (__u32)fd };
    bpf_map_update_elem(&connections, &key, &fresh, BPF_ANY);
    return 0;
}

SEC("tracepoint/syscalls/sys_enter_accept4")
int enter_accept4(struct syscall_enter *ctx) { return remember_io(ctx, IO_ACCEPT); }
SEC("tracepoint/syscalls/sys_exit_accept4")
int exit_accept4(struct syscall_exit *ctx) { return complete_accept(ctx); }
SEC("tracepoint/syscalls/sys_enter_accept")
int enter_accept(struct syscall_enter *ctx) { return remember_io(ctx, IO_ACCEPT); }
SEC("tracepoint/syscalls/sys_exit_accept")
int exit_accept(struct syscall_exit *ctx) { return complete_accept(ctx); }

SEC("tracepoint/syscalls/sys_enter_close")
int enter_close(struct syscall_enter *ctx)
{
    __u64 id = bpf_get_current_pid_tgid();
    if (!is_traced(id >> 32))
        return 0;
    struct conn_key key = { .tgid = id >> 32, .fd = (__u32)ctx->args[0] };
    struct conn_state *c = bpf_map_lookup_elem(&connections, &key);
    if (!c)
        return 0;
    if (c->active && c->ev.first_byte_ns)
        finish(ctx, c, END_CLOSE);
    bpf_map_delete_elem(&connections, &key);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
