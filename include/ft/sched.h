/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Break points: every place where the kernel may drop its locks or
 * reschedule asks here (README, "The mm operations": break points).  The
 * answer comes from the calling thread's policy and its own random stream,
 * so it replays from the seed:
 *
 *   kernel   fork breaks at progress >= 32 when "need_resched" (drawn with
 *            probability resched_ppm) or a PTL is contended (a real
 *            signal from the lock model); zap's need_resched likewise
 *   random   the fork threshold is drawn per check from [1, 2 * threshold],
 *            and each mmu_gather's capacity from [1, capacity], so "batch
 *            full" comes at random points too
 *   aligned  as kernel, but fork breaks only at CONT-aligned addresses
 *            (OPPO's change, described by Barry Song in the review of
 *            "mm: Batch-copy PTE ranges during fork()", Nov 2023)
 *   never    no break at all, contention included
 *
 * A thread without a context of its own (tests, set-up) uses "never".
 */
#ifndef FT_SCHED_H
#define FT_SCHED_H

#include <sched.h>

#include "ft/core.h"

enum ft_break_site {
	FT_BREAK_FORK,		/* copy_pte_range: progress >= threshold */
	FT_BREAK_ZAP,		/* zap_pte_range: need_resched() */
	FT_BREAK_COND_RESCHED,	/* cond_resched() between tables */
	FT_BREAK_GATHER,	/* tlb_gather_mmu: a smaller batch (random policy) */
	FT_BREAK_IRQ,		/* an interrupt between two instructions */
	NR_FT_BREAK_SITES
};

enum ft_break_policy {
	FT_BREAK_POLICY_KERNEL,
	FT_BREAK_POLICY_RANDOM,
	FT_BREAK_POLICY_ALIGNED,
	FT_BREAK_POLICY_NEVER,
	NR_FT_BREAK_POLICIES
};

extern const char *const ft_break_policy_names[NR_FT_BREAK_POLICIES];
extern const char *const ft_break_site_names[NR_FT_BREAK_SITES];

#define FT_SCHED_HISTORY	16

/*
 * Windows: while a thread has dropped a lock, or sits at an interrupt or
 * preemption point inside a critical sequence, it publishes what it
 * exposes (the mm, an address range, maybe the folio), so that another
 * worker can aim an operation there (stress/torture_aim.c).  A thread has
 * one window at a time; one opened inside another is not published (the
 * outer one names more).  Publishing is a few stores to the thread's own
 * struct ft_sched and draws nothing from the seeded streams, so runs that
 * aim at nothing keep their schedules.
 */
enum ft_window_kind {
	FT_WIN_FORK_BREAK,	/* copy_pte_range() dropped both PTLs */
	FT_WIN_ZAP_BREAK,	/* zap_pte_range() dropped its PTL (resched, full gather) */
	FT_WIN_FORK_COPY,	/* fork: shared, not yet write-protected */
	FT_WIN_CONVERT,		/* contpte_convert(): the block cleared, not rewritten */
	FT_WIN_LOCKLESS_READ,	/* half way through a lockless block read */
	FT_WIN_PTE_RMW,		/* between a PTE's load and its store */
	FT_WIN_MAPCOUNT,	/* inside a large-mapcount update (lock or write section) */
	FT_WIN_REUSE,		/* a write fault deciding to reuse a large folio */
	FT_WIN_WP_COPY,		/* wp_page_copy(): copied, the PTL not yet taken */
	FT_WIN_HW_ACCESS,	/* a hardware access in flight */
	FT_WIN_STALE_STORE,	/* a store through a writable translation of an entry
				 * since write-protected, its flush pending */
	FT_WIN_MIGRATION,	/* migration entries in place, not yet restored */
	FT_WIN_MIGRATION_RESTORE, /* one MM's entries restored, others' not yet */
	FT_WIN_GUP_FAST,	/* GUP-fast: pinned, the entry not yet re-read */
	FT_WIN_RECLAIM,		/* reclaim: unmapped, not yet freed */
	NR_FT_WINDOWS
};

extern const char *const ft_window_names[NR_FT_WINDOWS];

/*
 * A seqcount guards the fields: 4k+1 while they are written, 4k+2 while
 * the window is open, 4k+4 once it closed.  All accesses are atomic.
 */
struct ft_window {
	u32 seq;
	u32 kind;
	const void *mm;
	const void *folio;		/* NULL: whatever the range maps */
	unsigned long addr, len;
	int aimers;			/* 1: an aimed operation is under way */
	u32 aimed_seq;			/* the last open window aimed at */
	int lingering;			/* 1: waiting in ft_window_linger() */
	u32 met_seq;			/* the aimer reached a window of its own */
};

/* A consistent copy of another thread's open window. */
struct ft_window_view {
	struct ft_window *w;
	u32 seq;
	enum ft_window_kind kind;
	const void *mm, *folio;
	unsigned long addr, len;
	bool lingering;			/* a hint: it waits to be aimed at */
};

/*
 * Time by cause: each worker's wall-clock time, by what it was doing, so
 * that a user sees where a run's time goes.  A wait is timed at its ends
 * (two clock reads, only once it has begun to wait: the uncontended paths
 * read no clock); "work" is what is left.  Wall-clock time: with more
 * workers than CPUs, every cause includes time spent runnable, waiting
 * for a CPU.  Only the owning thread writes; status lines read racily.
 */
enum ft_time_cause {
	FT_TIME_PERTURB,	/* yields and holds by design: breaks, windows */
	FT_TIME_LOCK,		/* waiting for a lock, by class in lock[] */
	FT_TIME_TLB,		/* for other CPUs to acknowledge a TLB flush */
	FT_TIME_AUDIT,		/* parked for a stop-the-world audit */
	FT_TIME_ORACLE,		/* for another worker's shadow claim */
	FT_TIME_PAGE,		/* for a page: migration entry, locked folio, swap cache */
	NR_FT_TIME_CAUSES
};

extern const char *const ft_time_cause_names[NR_FT_TIME_CAUSES];

/* What FT_TIME_PERTURB was spent on. */
enum ft_perturb {
	FT_PERTURB_BREAK,	/* cond_resched() and the breaks it serves */
	FT_PERTURB_IRQ,		/* a delay inside an interrupt window */
	FT_PERTURB_WINDOW,	/* a window lingering or held for an aimer */
	FT_PERTURB_HOLD,	/* a lock held across a sleep (--long-hold) */
	NR_FT_PERTURBS
};

extern const char *const ft_perturb_names[NR_FT_PERTURBS];

/* Lock classes a thread tells apart; the last slot takes the rest. */
#define FT_TIME_LOCK_CLASSES	16

struct ft_time_acct {
	u64 start_ns, end_ns;		/* this thread's run (end 0: running) */
	u64 cpu_ns;			/* its CPU time, at the end */
	u64 ns[NR_FT_TIME_CAUSES];
	u64 perturb_ns[NR_FT_PERTURBS];	/* FT_TIME_PERTURB, split */
	struct {
		const char *class;	/* the lock class's name; NULL: free */
		u64 ns;
	} lock[FT_TIME_LOCK_CLASSES];
};

struct ft_sched {
	enum ft_break_policy policy;
	unsigned int threshold;		/* fork's progress threshold (32) */
	u32 resched_ppm;		/* need_resched() per check, per million */
	struct ft_random_state rs;	/* this thread's break stream */
	/* cond_resched() only draws, never yields: for single-threaded
	 * tests, where a yield gains nothing and costs a time slice on a
	 * loaded machine (a break still drops and retakes the locks). */
	bool no_yield;
	/* A perturbation spins a moment instead of calling sched_yield()
	 * (--perturb): with one worker there is nobody to give the CPU to,
	 * and the syscall was 40% of the run's cycles. */
	bool spin_perturb;
	u32 spin_rng;			/* the spins' lengths: not a seeded stream */
	bool resched_pending;		/* fork broke for it: cond_resched() yields */
	u32 sites_off;			/* sites not in --break-sites (bit n: site n) */
	/* statistics (this thread's, read racily by status lines) */
	u64 n_checks[NR_FT_BREAK_SITES];
	u64 n_breaks[NR_FT_BREAK_SITES];
	u64 n_fork_breaks_mid_block;	/* fork breaks at a non-CONT-aligned addr */
	/* The mid-block break experiment (the fork break race of that
	 * review, see the spf-midblock scenario).  Of the mid-block breaks:
	 * those after which the parent's block, not CONT at the break, was
	 * CONT when fork resumed; and those after which fork's resumed
	 * copy unfolded that block by its write-protect (wrprotect_ptes(),
	 * counted by the contpte layer, at most once per resume). */
	u64 n_fork_break_folds;
	u64 n_fork_resume_unfolds;
	/* Where copy_pte_range resumed inside a block, until it returns
	 * (0: not resuming; a mid-block address is never 0).  This
	 * thread's own: only it writes and reads it. */
	unsigned long fork_resume_addr;
	/* The last breaks taken, for the flight recorder: ring of
	 * FT_SCHED_HISTORY, n_history entries written so far. */
	struct {
		enum ft_break_site site;
		unsigned long addr;
	} history[FT_SCHED_HISTORY];
	u64 n_history;
	/* This thread's window and how deep windows nest now. */
	struct ft_window window;
	unsigned int window_depth;
	u64 n_windows[NR_FT_WINDOWS];	/* published */
	u64 n_window_holds;		/* closes delayed for an aimer */
	/* The window this thread's aimed operation is for (ft_window_aim()). */
	struct ft_window *aiming;
	u32 aiming_seq;
	struct ft_time_acct time;
};

/*
 * --break-sites: the sites where a break may be taken at all (bit n: site
 * n); a site out of the mask checks but never breaks.  All by default;
 * --minimize drops sites while the failure stays, maybe all ("": none).
 * Returns 0, -EINVAL (a name unknown), -ENODATA (an empty element) or
 * -EEXIST (a site named twice).
 */
#define FT_BREAK_SITES_ALL	((1u << NR_FT_BREAK_SITES) - 1)
int ft_break_sites_parse(const char *list, u32 *mask);

/* Install @s as the calling thread's context (NULL: back to "never").
 * Its time account runs from here until it is replaced by NULL. */
void ft_sched_set_current(struct ft_sched *s);
struct ft_sched *ft_sched_current(void);

/*
 * The operation the calling thread performs, as a driver names it (its
 * worker's id, the operation's number and name), for the page-table
 * trace (include/ft/pgtable.h): a report can then say which operation
 * last changed an entry.  A thread that never set one acts for nobody.
 */
struct ft_actor {
	u64 op_index;
	const char *op;		/* NULL: no operation */
	int worker;
};

void ft_set_actor(int worker, u64 op_index, const char *op);
struct ft_actor ft_current_actor(void);
void ft_actor_print(FILE *out, const struct ft_actor *a);

/*
 * A wait's start: the clock, or 0 when the calling thread keeps no
 * account.  ft_time_add() charges the time since @start to @cause,
 * ft_time_add_lock() to the lock class @class, ft_time_add_perturb() to
 * the perturbation @why; all ignore a 0 start.
 */
u64 ft_time_start(void);
void ft_time_add(enum ft_time_cause cause, u64 start);
void ft_time_add_lock(const char *class, u64 start);
void ft_time_add_perturb(enum ft_perturb why, u64 start);
int ft_break_policy_parse(const char *name, enum ft_break_policy *out);

/*
 * copy_pte_range's test, made between batches: if *@progress reached the
 * threshold, reset it and say whether to break now at @addr.  @contended:
 * spin_needbreak() of either PTL, a real signal from the lock model.
 */
bool ft_fork_should_break(int *progress, unsigned long addr, bool contended);
/* The mmu_gather's "batch full" point: its capacity for this gather. */
unsigned int ft_gather_capacity(unsigned int capacity);
/*
 * copy_pte_range's mid-block resume statistics (see struct ft_sched): fork
 * resumed at @addr inside a block, which was folded during the break or
 * not.  Until ft_fork_resume_end(), the contpte layer's first unfold of
 * that block by this thread's write-protect counts as a resume unfold
 * (ft_fork_count_resume_unfold()).  Whether the entry is CONT and
 * writable at the resume does not tell: a maybe-pinned large folio is
 * copied for the child page by page, and the parent's block is left
 * alone.
 */
void ft_fork_resume_begin(unsigned long addr, bool folded_during_break);
void ft_fork_resume_end(void);
/* wrprotect_ptes() unfolded the block holding @addr. */
void ft_fork_count_resume_unfold(unsigned long addr);
/*
 * An interrupt may arrive here (interrupts are on, as under a spinlock):
 * with the need_resched probability the thread is delayed for a moment.
 * Placed only where the window matters, e.g. between the load and the
 * store of a non-atomic PTE update, where hardware a/d updates land.  The
 * window (@kind: @mm, [@addr, @addr + @len), @folio) is published while
 * the thread is there; with no range and no folio it is counted but
 * exposes nothing to aim at (a PTE whose dirty bit is set already loses
 * nothing to a write meanwhile).
 */
void ft_irq_window(enum ft_window_kind kind, const void *mm, unsigned long addr,
		   unsigned long len, const void *folio);
/*
 * An interrupt window whose race needs a rare state (a writable clean entry
 * the hardware may dirty, a large folio that passed COW reuse's lockless
 * check): only when @exposed does it name its range or folio, and then it
 * lingers like a dropped lock, for an aimer to reach it.
 */
void ft_irq_window_exposed(enum ft_window_kind kind, const void *mm,
			   unsigned long addr, unsigned long len, const void *folio,
			   bool exposed);
/* An interrupt window that always names what it exposes, and lingers for an
 * aimer only when @linger: its rare state makes the race likelier, not
 * possible. */
void ft_irq_window_linger(enum ft_window_kind kind, const void *mm, unsigned long addr,
			  unsigned long len, const void *folio, bool linger);
/*
 * True once in @n calls, drawn from the break stream (never without a
 * scheduler): for an exposed state too common to linger every time.
 */
bool ft_window_sample(u64 n);

/*
 * Publish the calling thread's window until ft_window_close().  Windows
 * nest: only the outermost is published.  A close with aimers under way
 * holds the window open for a bounded number of yields drawn from the
 * break stream (only then: nothing is drawn otherwise), until the aimed
 * operation is done, or, for a window whose race is a meeting in the
 * middle (a lockless block read), until the aimed operation opens a window
 * of its own in the same mm: then the owner goes on while the aimer waits
 * in that window, a bounded number of yields, for the owner to close.
 */
void ft_window_open(enum ft_window_kind kind, const void *mm, unsigned long addr,
		    unsigned long len, const void *folio);
void ft_window_close(void);
/*
 * A window where the kernel drops a lock or may be slow (fork's and zap's
 * breaks, migration between unmap and restore, GUP-fast between pin and
 * re-read) lingers here when the run aims (ft_window_set_linger()): up to
 * a bounded number of yields drawn from the break stream (in serial mode
 * too, where another thread then runs), until an operation is aimed at
 * it, so that other workers see it open.  Aimers prefer a lingering
 * window.  Without aiming it costs nothing and draws nothing.
 */
void ft_window_linger(void);
/* Before the workers start: whether windows linger. */
void ft_window_set_linger(bool on);
/* Another thread's window @w, if open now: a consistent copy in @v. */
bool ft_window_read(struct ft_window *w, struct ft_window_view *v);
/* An aimer commits to @v's window: false if it closed meanwhile, or
 * another operation was aimed at it. */
bool ft_window_aim(const struct ft_window_view *v);
/* The aimed operation is over: true if its window was still open. */
bool ft_window_aim_done(const struct ft_window_view *v);
/* need_resched() at @site. */
bool ft_need_resched(enum ft_break_site site);
/* cond_resched(): maybe give the CPU away. */
void cond_resched(void);

/* ---- Serialized mode (--sched serial) ---------------------------------------
 *
 * The workers stay real threads but exactly one runs at a time.  Control
 * passes only at scheduling points: every acquisition and release of the
 * lock model, every break site, the MMU emulation's PTE updates, and every
 * wait loop.  A strategy fed from the seed picks the next thread:
 *
 *   random   uniformly among the runnable threads, at every point
 *   pct      Burckhardt et al., "A Randomized Scheduler with Probabilistic
 *            Guarantees of Finding Bugs" (ASPLOS 2010): distinct random
 *            priorities, the highest runnable thread runs; at d-1 change
 *            points drawn from [1, k] the running thread drops below all
 *            others.  A bug of depth d is found with probability at least
 *            1 / (n k^(d-1)).
 *
 * A waiting thread is runnable only when what it waits for holds (its
 * ready() predicate, evaluated by the scheduler): a thread waiting for a
 * lock another thread holds is never chosen.  A thread in a retry loop
 * yields and waits for another thread's progress.  When no thread is
 * runnable the run has deadlocked: reported, and it ends with FT_EXIT_SPLAT.
 *
 * The handoff is a futex word per thread (a release store and a wake, an
 * acquire load and a wait).  Under ThreadSanitizer its happens-before
 * edges and the scheduler's bookkeeping are hidden (AnnotateIgnore*, and
 * TSan does not see futex calls), so TSan still judges the model's own
 * locking and reports a race the serial order happened to avoid.
 *
 * Threads not enrolled (the main thread, tests) see every point as a no-op.
 */

enum ft_sched_strategy {
	FT_SCHED_RANDOM,
	FT_SCHED_PCT,
	NR_FT_SCHED_STRATEGIES
};

extern const char *const ft_sched_strategy_names[NR_FT_SCHED_STRATEGIES];
int ft_sched_strategy_parse(const char *name, enum ft_sched_strategy *out);

enum ft_sched_point {
	FT_SP_LOCK,		/* before an acquisition (trylocks included) */
	FT_SP_UNLOCK,		/* after a release */
	FT_SP_BREAK,		/* a break site's check */
	FT_SP_PTE,		/* the MMU emulation's a/d update of a PTE */
	FT_SP_WAIT,		/* a wait loop, before it blocks */
	FT_SP_YIELD,		/* a retry loop (migration_entry_wait) */
	NR_FT_SCHED_POINTS
};

#define FT_PCT_MAX_DEPTH	8
#define FT_SERIAL_MAX_THREADS	256

struct ft_serial_params {
	int nr_threads;
	enum ft_sched_strategy strategy;
	u64 seed;
	u32 pct_depth;		/* d >= 1 */
	u64 pct_steps;		/* k: change points are drawn from [1, k] */
};

struct ft_serial_stats {
	u64 steps;		/* scheduling points passed */
	u64 switches;		/* points where another thread was chosen */
	u64 hash;		/* of the whole schedule: (step, thread, point) */
	u64 blocked;		/* waits that had to block */
	u64 delayed;		/* stores ft_store_delayable_add() held back */
	int nr_threads;
	u32 pct_depth;
	u64 pct_steps;
};

struct ft_serial_thread;
extern _Thread_local struct ft_serial_thread *ft_serial_self;

/* Before the threads start; -EINVAL for bad parameters, -ENOMEM. */
int ft_serial_init(const struct ft_serial_params *p);
/* After every thread left. */
void ft_serial_destroy(void);
/* Thread @id (0..nr_threads-1) joins; returns when it is first chosen,
 * which is once every thread has joined. */
void ft_serial_enter(int id);
/* The calling thread leaves for good; another is chosen. */
void ft_serial_exit(void);
void __ft_sched_point(enum ft_sched_point sp);
/*
 * Block until @ready(@arg); @what names it in a deadlock report.  True if
 * no thread could run: the deadlock is reported, and the caller must end
 * the run (ft_die(FT_EXIT_SPLAT)) after leaving any TSan annotation.
 */
bool __ft_sched_wait(bool (*ready)(const void *arg), const void *arg,
		     const char *what);
/* A retry loop: not chosen again until another thread has passed a
 * scheduling point (or none other can run). */
void __ft_sched_yield(void);
/* Scheduling points passed so far (exact in the running thread). */
u64 ft_serial_steps(void);
void ft_serial_get_stats(struct ft_serial_stats *st);
/* PCT's lower bound 1 / (n k^(d-1)) for @st's run. */
double ft_pct_bound(const struct ft_serial_stats *st);

static inline bool ft_serial_on(void)
{
	return ft_serial_self != NULL;
}

/* A scheduling point: the calling thread may be switched out here. */
static inline void ft_sched_point(enum ft_sched_point sp)
{
	if (unlikely(ft_serial_self))
		__ft_sched_point(sp);
}

/* sched_yield() in a retry loop, in either mode. */
static inline void ft_sched_yield(void)
{
	if (ft_serial_self)
		__ft_sched_yield();
	else
		sched_yield();
}

/*
 * A retry loop that waits for another thread to finish a change (a
 * lockless reader seeing a block rewritten): in serial mode another thread
 * goes first, or PCT would run the retrying thread forever.
 */
static inline void ft_serial_yield(void)
{
	if (ft_serial_self)
		__ft_sched_yield();
}

/*
 * Wait until @ready(@arg): in serial mode blocked in the scheduler, else
 * with ft_wait_step() back-off, the time charged to @cause.  For the
 * waits that are not a lock's.
 */
void ft_wait_until(bool (*ready)(const void *arg), const void *arg, const char *what,
		   enum ft_time_cause cause);
/* ft_sched_yield() in a loop that waits for a page (FT_TIME_PAGE). */
void ft_page_wait_yield(void);

/* ---- Delayed stores (serial mode) -------------------------------------------
 *
 * A store held in the storing CPU's store buffer, as OEMU does for the
 * kernel (Jeong et al., "OZZ: Identifying Kernel Out-of-Order Concurrency
 * Bugs with In-Vivo Memory Access Reordering", SOSP 2024).  The serial
 * scheduler runs one thread at a time, so without this every store is
 * visible to the next thread at once: sequential consistency, and a
 * missing barrier between a store and a later load (the store-buffering
 * shape) can never show.
 *
 * ft_store_delayable_add() is atomic_add(), a relaxed RMW that returns
 * nothing.  In a serial run a draw from the scheduler's stream decides
 * whether its store is delayed: then it waits in the thread's buffer,
 * invisible to every other thread, and the thread's own atomic_read() of
 * the location sees it (store forwarding).  The buffer drains
 *
 *   - at the thread's next barrier: smp_mb(), smp_wmb(),
 *     smp_store_release(), and every fully ordered RMW of the shims
 *     (value-returning atomic_t ops, test_and_set_bit/test_and_clear_bit,
 *     the folio refcount's cmpxchg loops);
 *   - at any other atomic_t write of the thread (atomic_add(), atomic_set()
 *     ...), which may be to the same location: coherence, conservatively;
 *   - at a lock, unlock, wait or yield scheduling point of the thread and
 *     at its exit (the lock model's acquire and release);
 *   - when the thread runs again after a scheduling point at which another
 *     thread was chosen: the other threads ran while its store was still
 *     in flight.  At a PTE or break point where the scheduler keeps the
 *     same thread nothing happened on the CPU, and the store stays.
 *
 * What it emulates: one store overtaken by the same thread's later loads
 * (and later plain or READ_ONCE/WRITE_ONCE accesses) until one of the
 * above, as arm64 allows for a relaxed RMW (LSE STADD, or an LL/SC
 * loop's store-exclusive) that no barrier follows.  What it does not:
 * only stores made through this call are ever delayed, so it finds only
 * the reorderings a caller asks for; loads are never satisfied early
 * (OEMU's versioned loads, load-load reordering); smp_rmb() and acquires
 * do not drain, being no store barriers; raw __atomic builtins outside
 * include/ft (the lock model's) do not drain, their scheduling points do.
 * In a parallel run, and in a thread not enrolled, the store is immediate
 * and nothing is drawn: the hardware decides.  A run that never calls it
 * takes no draw and no scheduling point, so its schedule does not move.
 */
void ft_store_delayable_add(int i, atomic_t *v);

#endif /* FT_SCHED_H */
