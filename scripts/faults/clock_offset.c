/* A wall clock that jumps: LD_PRELOAD this and write a number of seconds to $CLOCK_OFFSET_FILE; every
 * CLOCK_REALTIME reading (clock_gettime, gettimeofday, time) of the process is shifted by it, re-read
 * every 50 ms of monotonic time. The monotonic clocks are left alone, as the kernel leaves them.
 * (libfaketime does this too, but under it the Swift runtime loses its command-line arguments.)
 * Built by scripts/faults/clock_jumps.py:  cc -shared -fPIC -O2 -o clock_offset.so clock_offset.c -ldl */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>

static int (*real_clock_gettime)(clockid_t, struct timespec *);
static long long offset_seconds;
static long long next_read_ns;

static long long monotonic_ns(void) {
    struct timespec ts;
    real_clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static long long current_offset(void) {
    if (!real_clock_gettime) real_clock_gettime = dlsym(RTLD_NEXT, "clock_gettime");
    long long now = monotonic_ns();
    if (now >= __atomic_load_n(&next_read_ns, __ATOMIC_RELAXED)) {
        const char *path = getenv("CLOCK_OFFSET_FILE");
        FILE *file = path ? fopen(path, "r") : NULL;
        long long seconds = 0;
        if (file) {
            if (fscanf(file, "%lld", &seconds) != 1) seconds = 0;
            fclose(file);
        }
        __atomic_store_n(&offset_seconds, seconds, __ATOMIC_RELAXED);
        __atomic_store_n(&next_read_ns, now + 50000000LL, __ATOMIC_RELAXED);
    }
    return __atomic_load_n(&offset_seconds, __ATOMIC_RELAXED);
}

int clock_gettime(clockid_t id, struct timespec *ts) {
    if (!real_clock_gettime) real_clock_gettime = dlsym(RTLD_NEXT, "clock_gettime");
    int result = real_clock_gettime(id, ts);
    if (result == 0 && (id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE)) ts->tv_sec += current_offset();
    return result;
}

int gettimeofday(struct timeval *tv, void *tz) {
    struct timespec ts;
    int result = clock_gettime(CLOCK_REALTIME, &ts);
    if (result == 0 && tv) {
        tv->tv_sec = ts.tv_sec;
        tv->tv_usec = ts.tv_nsec / 1000;
    }
    (void)tz;
    return result;
}

time_t time(time_t *out) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    if (out) *out = ts.tv_sec;
    return ts.tv_sec;
}
