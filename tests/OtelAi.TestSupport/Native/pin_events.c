// External event producer for the tests: loads test_events.bpf.o with libbpf, pins its perf event array and ring
// buffer, then on "gen N perf|ring [RATE]" lines from stdin calls getppid() N times (each call emits one event), paced
// at RATE calls per second when RATE is given (else as fast as it can), and answers "done <ns>"; on "write N" it writes one byte to /dev/null N times (a syscall the http_requests probe traces) and
// answers "done <ns>". Exits, unpinning, at end of input.
//   usage: pin_events OBJECT PIN_PREFIX
#include <bpf/libbpf.h>
#include <bpf/bpf.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/syscall.h>

static long long now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000LL + t.tv_nsec;
}

int main(int argc, char **argv)
{
    if (argc != 3) { fprintf(stderr, "usage: %s OBJECT PIN_PREFIX\n", argv[0]); return 2; }
    struct bpf_object *obj = bpf_object__open_file(argv[1], NULL);
    if (!obj || bpf_object__load(obj)) { perror("load"); return 1; }
    struct bpf_program *prog = bpf_object__find_program_by_name(obj, "on_getppid");
    if (!prog || !bpf_program__attach(prog)) { perror("attach"); return 1; }
    char perf_path[512], ring_path[512];
    snprintf(perf_path, sizeof perf_path, "%s_perf", argv[2]);
    snprintf(ring_path, sizeof ring_path, "%s_ring", argv[2]);
    if (bpf_map__pin(bpf_object__find_map_by_name(obj, "perf_events"), perf_path) ||
        bpf_map__pin(bpf_object__find_map_by_name(obj, "ring_events"), ring_path)) { perror("pin"); return 1; }
    int settings = bpf_object__find_map_fd_by_name(obj, "settings");
    __u32 key = 0, pid = getpid();
    bpf_map_update_elem(settings, &key, &pid, BPF_ANY);
    printf("ready %d\n", pid);
    fflush(stdout);
    char line[128], mode[16];
    long count;
    int devnull = open("/dev/null", O_WRONLY);
    while (fgets(line, sizeof line, stdin)) {
        if (sscanf(line, "write %ld", &count) == 1) {
            long long start = now_ns();
            for (long i = 0; i < count; i++) if (write(devnull, "x", 1) != 1) return 1;
            printf("done %lld\n", now_ns() - start);
            fflush(stdout);
            continue;
        }
        long rate = 0;
        if (sscanf(line, "gen %ld %15s %ld", &count, mode, &rate) < 2) continue;
        __u32 one = 1, m = strcmp(mode, "ring") == 0 ? 2 : 1;
        bpf_map_update_elem(settings, &one, &m, BPF_ANY);
        long long start = now_ns();
        for (long i = 0; i < count; i++) {
            syscall(SYS_getppid);
            // Paced: every 64 events, wait until the schedule catches up (sleep when far ahead, spin when close).
            if (rate > 0 && (i & 63) == 63) {
                long long due = start + (long long)((i + 1) * (1e9 / rate));
                for (long long ahead; (ahead = due - now_ns()) > 0;)
                    if (ahead > 200000) { struct timespec t = { 0, ahead - 100000 }; nanosleep(&t, NULL); }
            }
        }
        printf("done %lld\n", now_ns() - start);
        fflush(stdout);
    }
    unlink(perf_path);
    unlink(ring_path);
    bpf_object__close(obj);
    return 0;
}
