// SPDX-License-Identifier: GPL-2.0
// Test event source: every getppid() of the target process emits one struct test_event to a perf event array and
// to a ring buffer (both pinned by pin_events.c), so the receiver can read either by pinned_map.
#include <linux/bpf.h>
#include <linux/types.h>
#include <bpf/bpf_helpers.h>

struct test_event {
    __u64 ts;       // bpf_ktime_get_ns
    __u32 pid;
    __u32 seq;      // per-CPU sequence number
    __u64 value;    // the syscall id, a constant
    char tag[8];
};

struct {
    __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
    __uint(key_size, sizeof(__u32));
    __uint(value_size, sizeof(__u32));
} perf_events SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 1 << 20);
} ring_events SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 2);
    __type(key, __u32);
    __type(value, __u32);
} settings SEC(".maps"); // [0] target tgid, [1] 1 = perf, 2 = ring buffer

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, __u32);
} sequence SEC(".maps");

// sys_enter_getppid has no arguments: the context is 12 bytes and reading past them is refused at attach time.
struct syscall_enter {
    __u64 common;
    int nr;
};

SEC("tracepoint/syscalls/sys_enter_getppid")
int on_getppid(struct syscall_enter *ctx)
{
    __u32 zero = 0, one = 1;
    __u32 *target = bpf_map_lookup_elem(&settings, &zero);
    __u32 *mode = bpf_map_lookup_elem(&settings, &one);
    __u32 *seq = bpf_map_lookup_elem(&sequence, &zero);
    if (!target || !mode || !seq || (bpf_get_current_pid_tgid() >> 32) != *target)
        return 0;
    struct test_event e = {
        .ts = bpf_ktime_get_ns(),
        .pid = *target,
        .seq = (*seq)++,
        .value = ctx->nr,
        .tag = "otelai",
    };
    if (*mode == 2)
        bpf_ringbuf_output(&ring_events, &e, sizeof(e), 0);
    else
        bpf_perf_event_output(ctx, &perf_events, BPF_F_CURRENT_CPU, &e, sizeof(e));
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
