/* SPDX-License-Identifier: GPL-2.0-only */
/* Private to src/lock: the validator's task records and report helpers. */
#ifndef FT_LOCK_INTERNAL_H
#define FT_LOCK_INTERNAL_H

#include "ft/lock.h"

#define LOCKDEP_COMM_LEN	16

/*
 * Spin this many times with cpu_relax() before yielding.  Measured on the
 * 2-core machine: pure spinning with more threads than cores under TSan
 * did not finish in 60 s; spin-then-yield finished in 0.2 s.
 * bench_lock with 4 threads: 16 spins beat 4 and 64 (a pause is ~100
 * cycles, a yield a few hundred ns).
 */
#define SPINS_BEFORE_YIELD	16

/* Spin-wait with back-off and lockup detection (spin.c). */
/*
 * The state of one wait, and what a lockup report says about it: the lock
 * (@map, @inst, @bit) and the TSan annotation the waiter is inside
 * (@tsan_addr, NULL if none), which the report must close before the
 * process exits.
 */
struct spin_wait {
	u32 spins;
	u64 start_ns;
	const struct lockdep_map *map;
	const void *inst;
	int bit;
	void *tsan_addr;
	unsigned int tsan_flags;
	/* What the wait is for, as the serial scheduler tests it. */
	bool (*ready)(const void *arg);
	const void *ready_arg;
	u64 time_start;		/* ft_time_start() at the first wait step */
};

#define SPIN_WAIT(_map, _inst, _bit, _tsan_addr, _tsan_flags, _ready, _arg) \
	((struct spin_wait){ .map = (_map), .inst = (_inst), .bit = (_bit), \
			     .tsan_addr = (_tsan_addr),			\
			     .tsan_flags = (_tsan_flags),		\
			     .ready = (_ready), .ready_arg = (_arg) })

/* One step of a wait loop: cpu_relax, later ft_wait_step(), then the
 * stall check, which reports a lockup and ends the run.  In serial mode:
 * block in the scheduler until ready() (sched.h). */
void spin_wait_once(struct spin_wait *w);
/* The stall check alone, for waits that sleep instead of spinning. */
void spin_wait_check_stall(struct spin_wait *w);
/* The wait began (idempotent) and ended: its time goes to the lock's class. */
static inline void spin_wait_begin(struct spin_wait *w)
{
	if (!w->time_start)
		w->time_start = ft_time_start();
}

static inline void spin_wait_end(struct spin_wait *w)
{
	ft_time_add_lock(w->map->name, w->time_start);
}

/* What a held-lock record is doing. */
enum held_state {
	HELD_WAITING,	/* lock_acquire() done, still spinning/sleeping */
	HELD_HELD,
};

/*
 * One held (or awaited) lock.  The owning thread writes these fields, the
 * watchdog reads them from another thread: every access is a relaxed
 * atomic (see held_store/held_load in lockdep.c), a torn record is at worst
 * a confusing line in a diagnostic.
 */
struct held_lock {
	const void *instance;
	const struct lockdep_map *map;
	const struct lock_site *site;
	u64 acquire_ns;		/* coarse clock, set when the wait ends */
	int class_idx;
	int bit;
	unsigned int flags;	/* LOCK_F_* */
	unsigned int state;	/* enum held_state */
};

/* The kernel keeps held_locks in task_struct; we keep one per thread. */
struct lockdep_task {
	int in_use;
	int tid;
	char comm[LOCKDEP_COMM_LEN];
	int depth;
	struct held_lock held[MAX_LOCK_DEPTH];
};

/* The calling thread's record (registered on first use). */
struct lockdep_task *lockdep_current(void);

/* Serialize multi-line reports so that two splats never interleave. */
void lockdep_report_begin(void);
void lockdep_report_end(void);

void lockdep_print_task_locks(FILE *out, const struct lockdep_task *t);
void lockdep_print_lock_name(FILE *out, const struct lockdep_map *map,
			     unsigned int subclass);

/* The stall path of spin_wait_once(): reports and ends the run. */
__noreturn void lockdep_report_stall(const struct lockdep_map *map,
				     const void *inst, int bit, u64 waited_ns);

#endif /* FT_LOCK_INTERNAL_H */
