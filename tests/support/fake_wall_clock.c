/* A preload for tests that moves the process's wall clock and nothing else.
 *
 * A real clock step (NTP correcting a badly set clock, a VM resumed from a snapshot) moves
 * CLOCK_REALTIME and leaves CLOCK_MONOTONIC alone. So this fakes exactly time(), gettimeofday()
 * and clock_gettime() on the realtime clocks, adding an offset in seconds that it reads from the
 * file named by $TICKETD_FAKE_CLOCK_OFFSET_FILE (one signed integer, e.g. "259200" or "-172800";
 * re-read at most every 20 ms of monotonic time, so a test moves a running daemon's clock by
 * rewriting the file). Monotonic clocks, timers, sleeps and waits are the real ones.
 *
 * Why not libfaketime: it also wraps pthread_cond_timedwait, sem_timedwait, poll and friends, and
 * under it `ticketd run` waited whole seconds-long timeouts before its first poll and its first
 * send even with a constant offset and FAKETIME_DONT_FAKE_MONOTONIC=1, so a stall there could not
 * be told from a ticketd bug (docs/security.md). A preload this small has no such side effects.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

typedef int (*clock_gettime_fn)(clockid_t, struct timespec*);

static clock_gettime_fn real_clock_gettime(void) {
    static clock_gettime_fn real;
    clock_gettime_fn f = __atomic_load_n(&real, __ATOMIC_ACQUIRE);
    if (!f) {
        f = (clock_gettime_fn)dlsym(RTLD_NEXT, "clock_gettime");
        __atomic_store_n(&real, f, __ATOMIC_RELEASE);
    }
    return f;
}

static long long offset_seconds(void) {
    static long long offset;
    static long long next_read_ns;
    struct timespec mono;
    if (real_clock_gettime()(CLOCK_MONOTONIC, &mono) != 0) return __atomic_load_n(&offset, __ATOMIC_RELAXED);
    const long long now = (long long)mono.tv_sec * 1000000000LL + mono.tv_nsec;
    if (now >= __atomic_load_n(&next_read_ns, __ATOMIC_RELAXED)) {
        __atomic_store_n(&next_read_ns, now + 20000000LL, __ATOMIC_RELAXED);
        const char* path = getenv("TICKETD_FAKE_CLOCK_OFFSET_FILE");
        int fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
        if (fd >= 0) {
            char buf[64];
            ssize_t n = read(fd, buf, sizeof buf - 1);
            close(fd);
            if (n > 0) {
                buf[n] = '\0';
                char* end = NULL;
                long long v = strtoll(buf, &end, 10);
                /* A half-written file (the test rewriting it) keeps the last good offset. */
                if (end != buf) __atomic_store_n(&offset, v, __ATOMIC_RELAXED);
            }
        }
    }
    return __atomic_load_n(&offset, __ATOMIC_RELAXED);
}

int clock_gettime(clockid_t id, struct timespec* ts) {
    int rc = real_clock_gettime()(id, ts);
    if (rc == 0 && (id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE || id == CLOCK_TAI))
        ts->tv_sec += (time_t)offset_seconds();
    return rc;
}

int gettimeofday(struct timeval* restrict tv, void* restrict tz) {
    (void)tz;
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0) return -1;
    tv->tv_sec = ts.tv_sec;  /* glibc declares tv nonnull */
    tv->tv_usec = ts.tv_nsec / 1000;
    return 0;
}

time_t time(time_t* out) {
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0) return (time_t)-1;
    if (out) *out = ts.tv_sec;
    return ts.tv_sec;
}
