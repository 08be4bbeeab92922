// Memory read bandwidth, the bound of batch-1 decode (each token reads every weight once).
// Streams over a buffer of max(1 GiB, 4 x the last-level cache) with T threads, each reading
// its own contiguous share that it touched first (so its pages sit on its NUMA node), and
// prints the best of several passes: "threads T: X GB/s" (GB = 1e9 bytes).
//   cc -O3 -march=native -pthread bandwidth_probe.c -o probe && ./probe 1 && ./probe $(nproc)
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { kPasses = 8 };

static uint64_t* buffer;
static size_t words_per_thread;
static pthread_barrier_t barrier;
static volatile uint64_t sink;

static double now_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void* reader(void* arg) {
    const uint64_t* begin = buffer + (size_t)(intptr_t)arg * words_per_thread;
    memset((void*)begin, 1, words_per_thread * sizeof(uint64_t));
    uint64_t sum0 = 0, sum1 = 0, sum2 = 0, sum3 = 0;  // independent chains keep loads in flight
    for (int pass = 0; pass < kPasses; ++pass) {
        pthread_barrier_wait(&barrier);  // start together
        for (size_t i = 0; i < words_per_thread; i += 4) {
            sum0 += begin[i];
            sum1 += begin[i + 1];
            sum2 += begin[i + 2];
            sum3 += begin[i + 3];
        }
        pthread_barrier_wait(&barrier);  // the pass ends when the slowest thread is done
    }
    sink += sum0 + sum1 + sum2 + sum3;
    return NULL;
}

int main(int argc, char** argv) {
    const int threads = argc > 1 ? atoi(argv[1]) : 1;
    if (threads < 1 || threads > 4096) {
        fprintf(stderr, "bandwidth_probe: thread count must be 1..4096, got %s\n", argv[1]);
        return 2;
    }
    long llc = sysconf(_SC_LEVEL3_CACHE_SIZE);
    size_t bytes = (size_t)1 << 30;
    if (llc > 0 && (size_t)llc * 4 > bytes) bytes = (size_t)llc * 4;
    words_per_thread = bytes / sizeof(uint64_t) / (size_t)threads / 4 * 4;
    buffer = aligned_alloc(4096, words_per_thread * threads * sizeof(uint64_t) + 4096);
    if (!buffer) {
        fprintf(stderr, "bandwidth_probe: cannot allocate %zu bytes\n", bytes);
        return 1;
    }
    pthread_barrier_init(&barrier, NULL, (unsigned)threads + 1);
    pthread_t* ids = calloc((size_t)threads, sizeof(pthread_t));
    for (int t = 0; t < threads; ++t) pthread_create(&ids[t], NULL, reader, (void*)(intptr_t)t);
    double best = 1e30;
    for (int pass = 0; pass < kPasses; ++pass) {
        pthread_barrier_wait(&barrier);
        const double start = now_seconds();
        pthread_barrier_wait(&barrier);
        const double seconds = now_seconds() - start;
        if (pass > 0 && seconds < best) best = seconds;  // pass 0 may still fault pages in
    }
    for (int t = 0; t < threads; ++t) pthread_join(ids[t], NULL);
    const double read = (double)(words_per_thread * threads * sizeof(uint64_t));
    printf("threads %d: %.2f GB/s (%.0f MiB buffer)\n", threads, read / best / 1e9,
           read / (1 << 20));
    return 0;
}
