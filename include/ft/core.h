/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Core harness services: exit codes, the fatal-exit path, seeded random
 * streams, clocks, the option-value parsers every binary shares, and the
 * per-thread object caches.
 */
#ifndef FT_CORE_H
#define FT_CORE_H

#include <pthread.h>
#include <stdio.h>

#include "ft/kernel.h"

/*
 * Exit codes, as the README lists them (section "Lock-model torture").  66
 * is left to ThreadSanitizer, 77 is ctest's skip code (automake's convention).
 */
enum ft_exit {
	FT_EXIT_SUCCESS = 0,
	FT_EXIT_INVARIANT = 1,	/* an oracle fired */
	FT_EXIT_SPLAT = 2,	/* the lock model's validator fired */
	FT_EXIT_STALL = 3,	/* watchdog: no progress, lockup */
	FT_EXIT_USAGE = 4,	/* bad option or value */
	FT_EXIT_INTERRUPTED = 5,	/* SIGINT/SIGTERM before the end; nothing found */
	FT_EXIT_NOT_REPRODUCED = 6,	/* --replay: not the file's failure */
	FT_EXIT_TSAN = 66,	/* ThreadSanitizer's default exitcode */
	FT_EXIT_SKIP = 77,	/* test not applicable to this build */
};

/* ---- Fatal exit: the one way a library layer ends the process ---------- */

/*
 * A die notifier runs once, on the first ft_die(), before the process
 * exits: the driver uses it to print its repro line and verdict.  Like the
 * kernel's panic notifiers, they run in the dying thread while other
 * threads may still be running.
 */
typedef void (*ft_die_fn)(int code, void *arg);

int ft_die_notifier_register(ft_die_fn fn, void *arg);
/* What is about to end the run, in a few words (a splat's title, a
 * deadlock); the first caller's stays.  A static string. */
void ft_die_set_reason(const char *why);
const char *ft_die_reason(void);
__noreturn void ft_die(int code);

/* ---- Low-rider random streams (torture_random_state's role) ------------ */

/*
 * xoshiro256** state, passed explicitly (never seeded from time() ^ tid).
 * A stream is derived from (seed, a, b, c) by splitmix64, so the stream of
 * thread 3's operation 17 at break site 5 is a pure function of the seed.
 */
struct ft_random_state {
	u64 s[4];
};

u64 ft_mix64(u64 x);
void ft_random_init(struct ft_random_state *rs, u64 seed, u64 a, u64 b, u64 c);
u64 ft_random_u64(struct ft_random_state *rs);
/* Uniform in [0, n); n == 0 returns 0. */
u64 ft_random_below(struct ft_random_state *rs, u64 n);
/* True with probability num/den. */
bool ft_random_chance(struct ft_random_state *rs, u64 num, u64 den);

/* ---- Clocks --------------------------------------------------------------- */

#define NSEC_PER_USEC	1000ULL
#define NSEC_PER_MSEC	1000000ULL
#define NSEC_PER_SEC	1000000000ULL

u64 ft_now_ns(void);		/* CLOCK_MONOTONIC */
u64 ft_now_coarse_ns(void);	/* CLOCK_MONOTONIC_COARSE: cheap, ~4 ms */
u64 ft_thread_cpu_ns(void);	/* the calling thread's CPU time (a syscall) */
void ft_sleep_ns(u64 ns);
/*
 * Step @n (0, 1, 2, ...) of a wait for another thread: sched_yield() for
 * the first FT_YIELDS_BEFORE_SLEEP steps, then sleeps growing from 1 us to
 * 1 ms.  Yielding alone is not enough: under EEVDF a crowd of yielding
 * waiters kept a preempted lock holder off both CPUs for 60 s (measured
 * with validate_seqcount beside six loaded processes).  A sleeping waiter
 * leaves the run queue to the thread it waits for.
 */
#define FT_YIELDS_BEFORE_SLEEP	64
void ft_wait_step(u32 n);
/* A seed for runs that did not ask for one: printed, so still replayable. */
u64 ft_seed_from_clock(void);

/* ---- Option values -------------------------------------------------------- */

/*
 * Parsers return 0 or -EINVAL / -ERANGE and never print: the caller owns
 * the one-line error that names the option.
 */
int ft_parse_u64(const char *s, u64 lo, u64 hi, u64 *out);
/* "1500ms", "10s", "30m", "8h", "2d"; a bare number is seconds. */
int ft_parse_duration(const char *s, u64 *ns_out);
/* Inverse of ft_parse_duration, exact: "90s", "1500ms", "30m". */
const char *ft_format_duration(u64 ns, char *buf, size_t len);
/*
 * The next element of the comma-separated list at *@cursor, cut out in
 * place; NULL after the last.  Unlike strtok_r(), an empty element ("a,,b",
 * ",a", "a,", "") is returned as "", so the caller can refuse it.
 */
char *ft_list_next(char **cursor);

/* ---- kmem_cache: fixed-size objects, per-thread magazines ---------------- */

/*
 * The slab allocator's per-CPU caches, for the objects the mm operations
 * allocate and free all the time (anon_vma_chains, page tables): a
 * thread allocates from and frees to its own magazine of up to
 * KMEM_MAGAZINE objects, which exchanges half its size with the cache's
 * depot under a mutex when it runs empty or full, and only an empty
 * depot calls malloc.  Objects never go back to malloc: a cache keeps its
 * peak.  A thread's magazines go back to the depots when it exits.
 * Objects come back as they were freed, not zeroed.
 */
#define KMEM_MAGAZINE	32

struct kmem_cache {
	const char *name;
	size_t size, align;
	pthread_mutex_t lock;		/* the depot's */
	void *depot;			/* free objects, linked through their first word */
	int id;				/* its magazine slot + 1; 0 until first used */
};

#define KMEM_CACHE_INIT(_name, _type, _align)				\
	{ .name = (_name), .size = sizeof(_type), .align = (_align),	\
	  .lock = PTHREAD_MUTEX_INITIALIZER }

/* An object, or NULL when malloc fails. */
void *kmem_cache_alloc(struct kmem_cache *cache);
void kmem_cache_free(struct kmem_cache *cache, void *obj);

#endif /* FT_CORE_H */
