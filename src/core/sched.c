// SPDX-License-Identifier: GPL-2.0-only
/* Break points and their policies (include/ft/sched.h). */
#include <errno.h>
#include <linux/futex.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ft/sched.h"

/* CONT_PTE_SIZE on arm64 with 4K pages; the "aligned" policy's unit. */
#define FT_CONT_BLOCK_SIZE	(16UL << 12)

const char *const ft_break_policy_names[NR_FT_BREAK_POLICIES] = {
	[FT_BREAK_POLICY_KERNEL] = "kernel",
	[FT_BREAK_POLICY_RANDOM] = "random",
	[FT_BREAK_POLICY_ALIGNED] = "aligned",
	[FT_BREAK_POLICY_NEVER] = "never",
};

const char *const ft_break_site_names[NR_FT_BREAK_SITES] = {
	[FT_BREAK_FORK] = "fork",
	[FT_BREAK_ZAP] = "zap",
	[FT_BREAK_COND_RESCHED] = "cond_resched",
	[FT_BREAK_GATHER] = "gather",
	[FT_BREAK_IRQ] = "irq",
};

static _Thread_local struct ft_sched *current_sched;

void ft_sched_set_current(struct ft_sched *s)
{
	if (s) {
		WRITE_ONCE(s->time.start_ns, ft_now_ns());
	} else if (current_sched) {
		WRITE_ONCE(current_sched->time.cpu_ns, ft_thread_cpu_ns());
		WRITE_ONCE(current_sched->time.end_ns, ft_now_ns());
	}
	current_sched = s;
}

struct ft_sched *ft_sched_current(void)
{
	return current_sched;
}

static _Thread_local struct ft_actor current_actor;

void ft_set_actor(int worker, u64 op_index, const char *op)
{
	current_actor = (struct ft_actor){ op_index, op, worker };
}

struct ft_actor ft_current_actor(void)
{
	return current_actor;
}

void ft_actor_print(FILE *out, const struct ft_actor *a)
{
	if (a->op)
		fprintf(out, "ft-%d's %s (operation #%llu)", a->worker, a->op,
			(unsigned long long)a->op_index);
	else
		fprintf(out, "a thread outside the operations");
}

/* ---- Time by cause (include/ft/sched.h) ---------------------------------------- */

const char *const ft_time_cause_names[NR_FT_TIME_CAUSES] = {
	[FT_TIME_PERTURB] = "perturb",
	[FT_TIME_LOCK] = "lock",
	[FT_TIME_TLB] = "tlb",
	[FT_TIME_AUDIT] = "audit",
	[FT_TIME_ORACLE] = "oracle",
	[FT_TIME_PAGE] = "page",
};

const char *const ft_perturb_names[NR_FT_PERTURBS] = {
	[FT_PERTURB_BREAK] = "break",
	[FT_PERTURB_IRQ] = "irq",
	[FT_PERTURB_WINDOW] = "window",
	[FT_PERTURB_HOLD] = "hold",
};

u64 ft_time_start(void)
{
	return current_sched ? ft_now_ns() : 0;
}

static void time_charge(u64 *slot, u64 ns)
{
	WRITE_ONCE(*slot, *slot + ns);
}

void ft_time_add(enum ft_time_cause cause, u64 start)
{
	if (start && current_sched)
		time_charge(&current_sched->time.ns[cause], ft_now_ns() - start);
}

void ft_time_add_lock(const char *class, u64 start)
{
	struct ft_time_acct *a;
	u64 ns;
	int i;

	if (!start || !current_sched)
		return;
	a = &current_sched->time;
	/* Classes by name pointer: a lock's class is a static string. */
	for (i = 0; i < FT_TIME_LOCK_CLASSES - 1; i++)
		if (a->lock[i].class == class || !a->lock[i].class)
			break;
	if (!a->lock[i].class)
		WRITE_ONCE(a->lock[i].class, i < FT_TIME_LOCK_CLASSES - 1 ? class : "other");
	ns = ft_now_ns() - start;
	time_charge(&a->lock[i].ns, ns);
	time_charge(&a->ns[FT_TIME_LOCK], ns);
}

int ft_break_policy_parse(const char *name, enum ft_break_policy *out)
{
	for (int i = 0; i < NR_FT_BREAK_POLICIES; i++) {
		if (!strcmp(name, ft_break_policy_names[i])) {
			*out = (enum ft_break_policy)i;
			return 0;
		}
	}
	return -EINVAL;
}

int ft_break_sites_parse(const char *list, u32 *mask)
{
	char buf[128], *cur = buf, *tok;

	if (strlen(list) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, list);
	*mask = 0;
	if (!*list)
		return 0;
	while ((tok = ft_list_next(&cur))) {
		int i;

		if (!*tok)
			return -ENODATA;
		for (i = 0; i < NR_FT_BREAK_SITES; i++)
			if (!strcmp(tok, ft_break_site_names[i]))
				break;
		if (i == NR_FT_BREAK_SITES)
			return -EINVAL;
		if (*mask & (1u << i))
			return -EEXIST;
		*mask |= 1u << i;
	}
	return 0;
}

static bool site_on(struct ft_sched *s, enum ft_break_site site)
{
	return !(s->sites_off & (1u << site));
}

static bool draw_resched(struct ft_sched *s)
{
	return s->resched_ppm && ft_random_below(&s->rs, 1000000) < s->resched_ppm;
}

static void charge_perturb(struct ft_sched *s, enum ft_perturb why, u64 start)
{
	u64 ns = ft_now_ns() - start;

	time_charge(&s->time.perturb_ns[why], ns);
	time_charge(&s->time.ns[FT_TIME_PERTURB], ns);
}

/* Pauses a perturbation may spin instead of a yield: up to about what a
 * sched_yield() costs in this project's 2-CPU VM (1.8 us a call, a
 * pause 32 ns), so that the other CPU's workers get as far meanwhile. */
#define FT_PERTURB_SPIN_MAX	64

/* A spin of random length: the draws are not the seed's (a parallel run
 * does not replay, and the break stream must not move). */
static void spin_a_moment(struct ft_sched *s)
{
	u32 x = s->spin_rng ? s->spin_rng : 0x9e3779b9u;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	s->spin_rng = x;
	for (u32 n = 1 + x % FT_PERTURB_SPIN_MAX; n; n--)
		cpu_relax();
}

/* Let another thread run here (--perturb). */
static void give_way(struct ft_sched *s)
{
	if (ft_serial_on())
		return;
	if (s->spin_perturb)
		spin_a_moment(s);
	else
		sched_yield();
}

void ft_time_add_perturb(enum ft_perturb why, u64 start)
{
	if (start && current_sched)
		charge_perturb(current_sched, why, start);
}

/* Give the CPU away at a break: in serial mode the break point already
 * was a scheduling point, and the OS has no say. */
static void yield_cpu(struct ft_sched *s, enum ft_perturb why)
{
	u64 start;

	if (s->no_yield || ft_serial_on())
		return;
	start = ft_now_ns();
	give_way(s);
	charge_perturb(s, why, start);
}

static void count(struct ft_sched *s, enum ft_break_site site, unsigned long addr,
		  bool taken)
{
	u64 slot = s->n_history % FT_SCHED_HISTORY;

	WRITE_ONCE(s->n_checks[site], s->n_checks[site] + 1);
	if (!taken)
		return;
	WRITE_ONCE(s->n_breaks[site], s->n_breaks[site] + 1);
	WRITE_ONCE(s->history[slot].site, site);
	WRITE_ONCE(s->history[slot].addr, addr);
	WRITE_ONCE(s->n_history, s->n_history + 1);
}

bool ft_fork_should_break(int *progress, unsigned long addr, bool contended)
{
	struct ft_sched *s = current_sched;
	unsigned int threshold;
	bool brk;

	ft_sched_point(FT_SP_BREAK);
	if (!s || s->policy == FT_BREAK_POLICY_NEVER)
		return false;
	threshold = s->threshold;
	/*
	 * FT-DEVIATION: the random policy draws the threshold per check, so
	 * fork may break after fewer than 32 units of a fresh pass, which the
	 * kernel's "progress >= 32" never does.  Escalation retries a failure
	 * of this policy under the kernel's and says whether it reached it.
	 */
	if (s->policy == FT_BREAK_POLICY_RANDOM)
		threshold = 1 + (unsigned int)ft_random_below(&s->rs, 2 * s->threshold);
	if (*progress < (int)threshold)
		return false;
	*progress = 0;
	s->resched_pending = draw_resched(s);
	brk = (s->resched_pending || contended) && site_on(s, FT_BREAK_FORK);
	if (s->policy == FT_BREAK_POLICY_ALIGNED && (addr & (FT_CONT_BLOCK_SIZE - 1)))
		brk = false;
	count(s, FT_BREAK_FORK, addr, brk);
	if (brk && (addr & (FT_CONT_BLOCK_SIZE - 1)))
		WRITE_ONCE(s->n_fork_breaks_mid_block, s->n_fork_breaks_mid_block + 1);
	return brk;
}

bool ft_need_resched(enum ft_break_site site)
{
	struct ft_sched *s = current_sched;
	bool brk;

	ft_sched_point(FT_SP_BREAK);
	if (!s || s->policy == FT_BREAK_POLICY_NEVER)
		return false;
	brk = draw_resched(s) && site_on(s, site);
	count(s, site, 0, brk);
	return brk;
}

unsigned int ft_gather_capacity(unsigned int capacity)
{
	struct ft_sched *s = current_sched;
	unsigned int c;

	ft_sched_point(FT_SP_BREAK);
	if (!s || s->policy != FT_BREAK_POLICY_RANDOM || capacity <= 1 ||
	    !site_on(s, FT_BREAK_GATHER))
		return capacity;
	c = 1 + (unsigned int)ft_random_below(&s->rs, capacity);
	count(s, FT_BREAK_GATHER, 0, c < capacity);
	return c;
}

void ft_fork_resume_begin(unsigned long addr, bool folded_during_break)
{
	struct ft_sched *s = current_sched;

	if (!s)
		return;
	if (folded_during_break)
		WRITE_ONCE(s->n_fork_break_folds, s->n_fork_break_folds + 1);
	s->fork_resume_addr = addr;
}

void ft_fork_resume_end(void)
{
	struct ft_sched *s = current_sched;

	if (s)
		s->fork_resume_addr = 0;
}

void ft_fork_count_resume_unfold(unsigned long addr)
{
	struct ft_sched *s = current_sched;

	/* Only the block fork resumed in: past it, fork may unfold the
	 * next block it covers in part, which no break caused. */
	if (!s || !s->fork_resume_addr ||
	    (addr ^ s->fork_resume_addr) & ~(FT_CONT_BLOCK_SIZE - 1))
		return;
	s->fork_resume_addr = 0;	/* one per resume */
	WRITE_ONCE(s->n_fork_resume_unfolds, s->n_fork_resume_unfolds + 1);
}

void ft_irq_window_linger(enum ft_window_kind kind, const void *mm, unsigned long addr,
			  unsigned long len, const void *folio, bool linger)
{
	ft_window_open(kind, mm, addr, len, folio);
	if (linger)
		ft_window_linger();
	if (ft_need_resched(FT_BREAK_IRQ))
		yield_cpu(current_sched, FT_PERTURB_IRQ);
	ft_window_close();
}

void ft_irq_window(enum ft_window_kind kind, const void *mm, unsigned long addr,
		   unsigned long len, const void *folio)
{
	ft_irq_window_linger(kind, mm, addr, len, folio, false);
}

void ft_irq_window_exposed(enum ft_window_kind kind, const void *mm,
			   unsigned long addr, unsigned long len, const void *folio,
			   bool exposed)
{
	if (exposed)
		ft_irq_window_linger(kind, mm, addr, len, folio, true);
	else
		ft_irq_window(kind, mm, addr, 0, NULL);
}

/* ---- Windows (include/ft/sched.h) --------------------------------------------- */

const char *const ft_window_names[NR_FT_WINDOWS] = {
	[FT_WIN_FORK_BREAK] = "fork_break",
	[FT_WIN_ZAP_BREAK] = "zap_break",
	[FT_WIN_FORK_COPY] = "fork_copy",
	[FT_WIN_CONVERT] = "convert",
	[FT_WIN_LOCKLESS_READ] = "lockless_read",
	[FT_WIN_PTE_RMW] = "pte_rmw",
	[FT_WIN_MAPCOUNT] = "mapcount",
	[FT_WIN_REUSE] = "reuse",
	[FT_WIN_WP_COPY] = "wp_copy",
	[FT_WIN_HW_ACCESS] = "hw_access",
	[FT_WIN_STALE_STORE] = "stale_store",
	[FT_WIN_MIGRATION] = "migration",
	[FT_WIN_MIGRATION_RESTORE] = "migration_restore",
	[FT_WIN_GUP_FAST] = "gup_fast",
	[FT_WIN_RECLAIM] = "reclaim",
};

static bool window_lingers;

void ft_window_set_linger(bool on)
{
	window_lingers = on;
}

bool ft_window_sample(u64 n)
{
	struct ft_sched *s = current_sched;

	return s && window_lingers && !ft_random_below(&s->rs, n);
}

/* Yields a window may linger or hold for: enough for a worker that was
 * runnable to get there, not enough to stall the owner's operation. */
#define FT_WINDOW_HOLD_MAX	8

void ft_window_linger(void)
{
	struct ft_sched *s = current_sched;
	struct ft_window *w;
	u64 n;

	if (!window_lingers || !s || s->window_depth != 1)
		return;
	w = &s->window;
	n = 1 + ft_random_below(&s->rs, FT_WINDOW_HOLD_MAX);
	__atomic_store_n(&w->lingering, 1, __ATOMIC_RELAXED);
	/* In serial mode a yield, not a point: PCT switches at a point only
	 * at its change points, and the window would go unseen. */
	while (n-- && !__atomic_load_n(&w->aimers, __ATOMIC_ACQUIRE)) {
		ft_serial_yield();
		yield_cpu(s, FT_PERTURB_WINDOW);
	}
	__atomic_store_n(&w->lingering, 0, __ATOMIC_RELAXED);
}

/*
 * Windows whose race is a meeting in the middle, and the aimer's windows
 * they meet at: the owner must go on while its aimed partner is inside
 * that window of its own, not after the partner is done.  A lockless block
 * read must read its second half while a contpte conversion has the block
 * cleared (a window the partner opens before, a hardware access or a
 * mapcount update, is not the place); a migration's restore must restore
 * the next MM while the MM it restored is inside COW reuse's checks (B2);
 * a store through a stale writable translation must land after a COW
 * fault has copied the page and before it maps the copy (Z14).
 * The other windows hold until their aimer is done (fork must stay
 * stopped until a migration's restore has refolded the block).
 */
static const u32 window_meets[NR_FT_WINDOWS] = {
	[FT_WIN_LOCKLESS_READ] = BIT(FT_WIN_CONVERT),
	[FT_WIN_MIGRATION_RESTORE] = BIT(FT_WIN_REUSE),
	[FT_WIN_STALE_STORE] = BIT(FT_WIN_WP_COPY),
};

/*
 * An aimed operation opened a window of @kind in @mm: if it is one the
 * aimed-at window meets at, in that window's mm, tell its owner to go on,
 * and stay in this window (a bounded number of yields) until the owner has
 * closed that one.
 */
static void window_meet(struct ft_sched *s, enum ft_window_kind kind, const void *mm)
{
	struct ft_window *target = s->aiming;
	u32 seq = s->aiming_seq;
	u64 n, start;

	if (!(window_meets[__atomic_load_n(&target->kind, __ATOMIC_ACQUIRE)] & BIT(kind)))
		return;				/* maybe a later window */
	s->aiming = NULL;			/* once per aimed operation */
	if (__atomic_load_n(&target->mm, __ATOMIC_ACQUIRE) != mm ||
	    __atomic_load_n(&target->seq, __ATOMIC_ACQUIRE) != seq)
		return;
	__atomic_store_n(&target->met_seq, seq, __ATOMIC_RELEASE);
	n = 1 + ft_random_below(&s->rs, FT_WINDOW_HOLD_MAX);
	start = ft_now_ns();
	while (n-- && __atomic_load_n(&target->seq, __ATOMIC_ACQUIRE) == seq) {
		ft_serial_yield();
		give_way(s);
	}
	charge_perturb(s, FT_PERTURB_WINDOW, start);
}

void ft_window_open(enum ft_window_kind kind, const void *mm, unsigned long addr,
		    unsigned long len, const void *folio)
{
	struct ft_sched *s = current_sched;
	struct ft_window *w;
	u32 seq;

	if (!s || s->window_depth++)
		return;
	w = &s->window;
	seq = __atomic_load_n(&w->seq, __ATOMIC_RELAXED);
	__atomic_store_n(&w->seq, seq + 1, __ATOMIC_RELAXED);
	/*
	 * Release stores, not a fence (TSan has no fences): a reader that
	 * sees a field of this window (acquire) sees seq + 1 after it.
	 */
	__atomic_store_n(&w->kind, (u32)kind, __ATOMIC_RELEASE);
	__atomic_store_n(&w->mm, mm, __ATOMIC_RELEASE);
	__atomic_store_n(&w->folio, folio, __ATOMIC_RELEASE);
	__atomic_store_n(&w->addr, addr, __ATOMIC_RELEASE);
	__atomic_store_n(&w->len, len, __ATOMIC_RELEASE);
	__atomic_store_n(&w->seq, seq + 2, __ATOMIC_RELEASE);
	WRITE_ONCE(s->n_windows[kind], s->n_windows[kind] + 1);
	if (s->aiming)
		window_meet(s, kind, mm);
}

/* An aimed operation is under way, and has not met this window. */
static bool window_awaits(struct ft_window *w)
{
	return __atomic_load_n(&w->aimers, __ATOMIC_ACQUIRE) > 0 &&
	       __atomic_load_n(&w->met_seq, __ATOMIC_ACQUIRE) !=
	       __atomic_load_n(&w->seq, __ATOMIC_RELAXED);
}

/*
 * A window that meets its aimer holds longer: the partner must get through
 * its own locks (migration's folio and anon_vma locks, an mprotect's
 * mmap_lock) to the window it meets at, and the owner goes on as soon as
 * it does.
 */
#define FT_WINDOW_MEET_HOLD_MAX	64

/* Wait, a bounded number of yields drawn from the break stream, for the
 * operations aimed at this window to get there. */
static void window_hold(struct ft_sched *s)
{
	enum ft_window_kind kind = __atomic_load_n(&s->window.kind, __ATOMIC_RELAXED);
	u64 n = 1 + ft_random_below(&s->rs, window_meets[kind] ? FT_WINDOW_MEET_HOLD_MAX :
							       FT_WINDOW_HOLD_MAX);
	u64 start = ft_now_ns();

	WRITE_ONCE(s->n_window_holds, s->n_window_holds + 1);
	while (n-- && window_awaits(&s->window)) {
		ft_serial_yield();
		give_way(s);
	}
	charge_perturb(s, FT_PERTURB_WINDOW, start);
}

void ft_window_close(void)
{
	struct ft_sched *s = current_sched;
	struct ft_window *w;

	if (!s || --s->window_depth)
		return;
	w = &s->window;
	if (window_awaits(w))
		window_hold(s);
	__atomic_store_n(&w->seq, __atomic_load_n(&w->seq, __ATOMIC_RELAXED) + 2,
			 __ATOMIC_RELEASE);
}

bool ft_window_read(struct ft_window *w, struct ft_window_view *v)
{
	u32 seq = __atomic_load_n(&w->seq, __ATOMIC_ACQUIRE);

	if ((seq & 3) != 2)
		return false;
	v->w = w;
	v->seq = seq;
	/* Acquire: the recheck of seq below comes after every field. */
	v->kind = (enum ft_window_kind)__atomic_load_n(&w->kind, __ATOMIC_ACQUIRE);
	v->mm = __atomic_load_n(&w->mm, __ATOMIC_ACQUIRE);
	v->folio = __atomic_load_n(&w->folio, __ATOMIC_ACQUIRE);
	v->addr = __atomic_load_n(&w->addr, __ATOMIC_ACQUIRE);
	v->len = __atomic_load_n(&w->len, __ATOMIC_ACQUIRE);
	v->lingering = __atomic_load_n(&w->lingering, __ATOMIC_RELAXED);
	return __atomic_load_n(&w->seq, __ATOMIC_RELAXED) == seq && v->kind < NR_FT_WINDOWS;
}

bool ft_window_aim(const struct ft_window_view *v)
{
	int none = 0;

	/* One aimed operation per window, one at a time: more would queue
	 * behind each other (on the page's claim, the PTL) while the owner
	 * holds the window open for them. */
	if (__atomic_load_n(&v->w->aimed_seq, __ATOMIC_RELAXED) == v->seq ||
	    !__atomic_compare_exchange_n(&v->w->aimers, &none, 1, false, __ATOMIC_ACQ_REL,
					 __ATOMIC_RELAXED))
		return false;
	if (__atomic_load_n(&v->w->seq, __ATOMIC_ACQUIRE) == v->seq) {
		__atomic_store_n(&v->w->aimed_seq, v->seq, __ATOMIC_RELAXED);
		if (current_sched) {
			current_sched->aiming = v->w;
			current_sched->aiming_seq = v->seq;
		}
		return true;
	}
	__atomic_store_n(&v->w->aimers, 0, __ATOMIC_RELEASE);
	return false;
}

bool ft_window_aim_done(const struct ft_window_view *v)
{
	bool open = __atomic_load_n(&v->w->seq, __ATOMIC_ACQUIRE) == v->seq;

	if (current_sched)
		current_sched->aiming = NULL;

	__atomic_store_n(&v->w->aimers, 0, __ATOMIC_RELEASE);
	return open;
}

/* need_resched() that made fork break is still set here: schedule. */
void cond_resched(void)
{
	struct ft_sched *s = current_sched;

	if (s && s->resched_pending) {
		s->resched_pending = false;
		ft_sched_point(FT_SP_BREAK);
		count(s, FT_BREAK_COND_RESCHED, 0, true);
		yield_cpu(s, FT_PERTURB_BREAK);
		return;
	}
	if (ft_need_resched(FT_BREAK_COND_RESCHED))
		yield_cpu(current_sched, FT_PERTURB_BREAK);
}

/* ---- Serialized mode (include/ft/sched.h) ------------------------------------ */

const char *const ft_sched_strategy_names[NR_FT_SCHED_STRATEGIES] = {
	[FT_SCHED_RANDOM] = "random",
	[FT_SCHED_PCT] = "pct",
};

int ft_sched_strategy_parse(const char *name, enum ft_sched_strategy *out)
{
	for (int i = 0; i < NR_FT_SCHED_STRATEGIES; i++) {
		if (!strcmp(name, ft_sched_strategy_names[i])) {
			*out = (enum ft_sched_strategy)i;
			return 0;
		}
	}
	return -EINVAL;
}

#if FT_TSAN
/* TSan's dynamic annotations (tsan_interface_ann): hide the handoff. */
void AnnotateIgnoreReadsBegin(const char *f, int l);
void AnnotateIgnoreReadsEnd(const char *f, int l);
void AnnotateIgnoreWritesBegin(const char *f, int l);
void AnnotateIgnoreWritesEnd(const char *f, int l);
void AnnotateIgnoreSyncBegin(const char *f, int l);
void AnnotateIgnoreSyncEnd(const char *f, int l);

static void hide_begin(void)
{
	AnnotateIgnoreReadsBegin(__FILE__, __LINE__);
	AnnotateIgnoreWritesBegin(__FILE__, __LINE__);
	AnnotateIgnoreSyncBegin(__FILE__, __LINE__);
}

static void hide_end(void)
{
	AnnotateIgnoreSyncEnd(__FILE__, __LINE__);
	AnnotateIgnoreWritesEnd(__FILE__, __LINE__);
	AnnotateIgnoreReadsEnd(__FILE__, __LINE__);
}
#else
static void hide_begin(void) { }
static void hide_end(void) { }
#endif

struct ft_serial_thread {
	int id;
	bool joined, done;
	u32 turn;		/* futex word: 1 when it may run */
	/* Waiting: runnable only once ready(ready_arg); NULL when not. */
	bool (*ready)(const void *arg);
	const void *ready_arg;
	const char *what;
	/* Yielded in a retry loop: not chosen again until another thread
	 * made progress (passed a point other than a yield), or two threads
	 * retrying for a third could take turns for ever under PCT. */
	bool yielded;
	u64 yield_others;	/* others' progress when it yielded */
	u64 own_progress;
	u64 prio;		/* PCT: higher runs first */
};

/*
 * Everything below is read and written only by the thread that holds the
 * turn; nr_joined atomically while the threads join.
 */
static struct {
	struct ft_serial_thread *threads;
	struct ft_serial_params p;
	int nr_joined;
	struct ft_random_state rs;
	u64 change_at[FT_PCT_MAX_DEPTH];	/* PCT: step of change point i */
	u64 steps, switches, blocked, hash;
	u64 progress;			/* points other than yields */
	u64 delayed;			/* stores held back */
	bool deadlocked;
} serial;

_Thread_local struct ft_serial_thread *ft_serial_self;

#define STREAM_SCHED	0x73636864ULL	/* "schd" */

/* The watchdog reads the count from outside: an atomic, relaxed. */
static void count_step(void)
{
	__atomic_store_n(&serial.steps, serial.steps + 1, __ATOMIC_RELAXED);
}

/* PCT: priorities d..d+n-1 in random order; d-1 change points in [1, k]. */
static void pct_init(void)
{
	int n = serial.p.nr_threads;

	for (int i = 0; i < n; i++)
		serial.threads[i].prio = serial.p.pct_depth + (u64)i;
	for (int i = n - 1; i > 0; i--) {
		int j = (int)ft_random_below(&serial.rs, (u64)i + 1);
		u64 tmp = serial.threads[i].prio;

		serial.threads[i].prio = serial.threads[j].prio;
		serial.threads[j].prio = tmp;
	}
	for (u32 i = 0; i + 1 < serial.p.pct_depth; i++)
		serial.change_at[i] = 1 + ft_random_below(&serial.rs, serial.p.pct_steps);
}

int ft_serial_init(const struct ft_serial_params *p)
{
	if (p->nr_threads < 1 || p->nr_threads > FT_SERIAL_MAX_THREADS ||
	    p->strategy >= NR_FT_SCHED_STRATEGIES ||
	    p->pct_depth < 1 || p->pct_depth > FT_PCT_MAX_DEPTH || !p->pct_steps)
		return -EINVAL;
	serial.threads = calloc((size_t)p->nr_threads, sizeof(*serial.threads));
	if (!serial.threads)
		return -ENOMEM;
	serial.p = *p;
	serial.nr_joined = 0;
	serial.steps = serial.switches = serial.blocked = serial.progress = 0;
	serial.delayed = 0;
	serial.deadlocked = false;
	serial.hash = ft_mix64(p->seed);
	ft_random_init(&serial.rs, p->seed, STREAM_SCHED, p->strategy, p->pct_depth);
	for (int i = 0; i < p->nr_threads; i++)
		serial.threads[i].id = i;
	if (p->strategy == FT_SCHED_PCT)
		pct_init();
	return 0;
}

void ft_serial_destroy(void)
{
	free(serial.threads);
	serial.threads = NULL;
}

static bool runnable(struct ft_serial_thread *th)
{
	return th->joined && !th->done && (!th->ready || th->ready(th->ready_arg));
}

/* A yielded thread that nobody else has made progress for since. */
static bool stalled(const struct ft_serial_thread *th)
{
	return th->yielded && serial.progress - th->own_progress == th->yield_others;
}

/*
 * The strategy's choice among the runnable threads; NULL if none is.
 * Stalled yielders only when nothing else can run (then the run is stuck
 * in retry loops, and the watchdog sees no operation finish).
 */
static struct ft_serial_thread *pick(void)
{
	struct ft_serial_thread *cand[FT_SERIAL_MAX_THREADS], *best = NULL;
	struct ft_serial_thread *waiting[FT_SERIAL_MAX_THREADS];
	int n = 0, nw = 0;

	for (int i = 0; i < serial.p.nr_threads; i++) {
		struct ft_serial_thread *th = &serial.threads[i];

		if (!runnable(th))
			continue;
		if (stalled(th))
			waiting[nw++] = th;
		else
			cand[n++] = th;
	}
	if (!n) {
		memcpy(cand, waiting, sizeof(cand[0]) * (size_t)nw);
		n = nw;
	}
	if (!n)
		return NULL;
	if (serial.p.strategy == FT_SCHED_RANDOM)
		return cand[ft_random_below(&serial.rs, (u64)n)];
	for (int i = 0; i < n; i++)
		if (!best || cand[i]->prio > best->prio)
			best = cand[i];
	return best;
}

/* PCT's change points: the running thread drops below every other. */
static void pct_step(struct ft_serial_thread *self)
{
	for (u32 i = 0; i + 1 < serial.p.pct_depth; i++)
		if (serial.change_at[i] == serial.steps)
			self->prio = i + 1;
}

/*
 * No thread can run: report.  The caller ends the run once out of the
 * hidden section, and a lock's waiter once out of TSan's pre-lock state
 * (TSan reports ignores still on at exit).
 */
static void deadlock(void)
{
	serial.deadlocked = true;
	ft_die_set_reason("deadlock");
	fprintf(stderr, "\n======================================================\n"
		"WARNING: deadlock: every thread is blocked (serial scheduler, step %llu)\n"
		"------------------------------------------------------\n",
		(unsigned long long)serial.steps);
	for (int i = 0; i < serial.p.nr_threads; i++) {
		struct ft_serial_thread *th = &serial.threads[i];

		if (th->joined && !th->done)
			fprintf(stderr, "ft-%d waits for %s\n", i, th->what ? th->what : "?");
	}
}

/*
 * The turn passes through a futex word per thread.  Its release and
 * acquire are hidden like the bookkeeping; the sleep itself is a bare
 * futex call, which TSan does not see, made outside the hidden section.
 */
static void give_turn(struct ft_serial_thread *next)
{
	__atomic_store_n(&next->turn, 1, __ATOMIC_RELEASE);
	syscall(SYS_futex, &next->turn, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

/* Called hidden; sleeps unhidden until the turn comes. */
static void wait_turn(struct ft_serial_thread *self)
{
	for (;;) {
		bool mine = __atomic_load_n(&self->turn, __ATOMIC_ACQUIRE);

		if (mine)
			break;
		hide_end();
		syscall(SYS_futex, &self->turn, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
		hide_begin();
	}
	__atomic_store_n(&self->turn, 0, __ATOMIC_RELAXED);
}

/* Hand the turn to @next (not the caller) and wait until it comes back. */
static void switch_to(struct ft_serial_thread *self, struct ft_serial_thread *next)
{
	serial.switches++;
	give_turn(next);
	if (self)
		wait_turn(self);
}

/* The schedule hash takes in (thread, point, thread chosen next). */
static void hash_step(struct ft_serial_thread *self, unsigned int sp,
		      struct ft_serial_thread *next)
{
	serial.hash = ft_mix64(serial.hash ^ ((u64)self->id << 40) ^ ((u64)sp << 32) ^
			       (u64)next->id);
}

/* One scheduling decision by the running thread: true if another ran. */
static bool schedule(struct ft_serial_thread *self, enum ft_sched_point sp)
{
	struct ft_serial_thread *next;

	count_step();
	if (sp != FT_SP_YIELD) {
		serial.progress++;
		self->own_progress++;
	}
	if (serial.p.strategy == FT_SCHED_PCT)
		pct_step(self);
	next = pick();
	if (!next) {
		deadlock();
		return false;
	}
	hash_step(self, sp, next);
	if (next == self)
		return false;
	switch_to(self, next);
	return true;
}

void __ft_sched_point(enum ft_sched_point sp)
{
	struct ft_serial_thread *self = ft_serial_self;
	bool switched;

	/* The lock model's acquires and releases order the buffer. */
	if (sp != FT_SP_PTE && sp != FT_SP_BREAK)
		ft_sb_drain();
	hide_begin();
	switched = schedule(self, sp);	/* the caller can run: never a deadlock */
	hide_end();
	/* Others ran while the store was in flight; now it lands. */
	if (switched)
		ft_sb_drain();
}

bool __ft_sched_wait(bool (*ready)(const void *arg), const void *arg,
		     const char *what)
{
	struct ft_serial_thread *self = ft_serial_self;

	ft_sb_drain();
	hide_begin();
	/* Only the running thread changes anything: if @ready is false now,
	 * it stays false until another thread runs. */
	if (!ready(arg)) {
		self->ready = ready;
		self->ready_arg = arg;
		self->what = what;
		serial.blocked++;
		schedule(self, FT_SP_WAIT);
		self->ready = NULL;
		self->what = NULL;
	}
	hide_end();
	return serial.deadlocked;
}

void __ft_sched_yield(void)
{
	struct ft_serial_thread *self = ft_serial_self;

	ft_sb_drain();
	hide_begin();
	self->yielded = true;
	self->yield_others = serial.progress - self->own_progress;
	schedule(self, FT_SP_YIELD);	/* the caller can run */
	self->yielded = false;
	hide_end();
}

void ft_serial_enter(int id)
{
	struct ft_serial_thread *self = &serial.threads[id];

	hide_begin();
	self->joined = true;
	/* The last to join makes the first choice: no choice may depend on
	 * which threads the OS started first. */
	if (__atomic_add_fetch(&serial.nr_joined, 1, __ATOMIC_ACQ_REL) == serial.p.nr_threads)
		give_turn(pick());
	wait_turn(self);
	ft_serial_self = self;
	hide_end();
}

void ft_serial_exit(void)
{
	struct ft_serial_thread *self = ft_serial_self, *next;

	ft_sb_drain();
	hide_begin();
	ft_serial_self = NULL;
	self->done = true;
	count_step();
	next = pick();
	if (next) {
		hash_step(self, NR_FT_SCHED_POINTS, next);	/* an exit */
		switch_to(NULL, next);
	} else {
		for (int i = 0; i < serial.p.nr_threads && !serial.deadlocked; i++)
			if (!serial.threads[i].done)
				deadlock();
	}
	hide_end();
	if (serial.deadlocked)
		ft_die(FT_EXIT_SPLAT);
}

void ft_wait_until(bool (*ready)(const void *arg), const void *arg, const char *what,
		   enum ft_time_cause cause)
{
	u64 start;

	if (ready(arg))
		return;
	start = ft_time_start();
	for (u32 step = 0; !ready(arg); step++) {
		if (!ft_serial_on())
			ft_wait_step(step);
		else if (__ft_sched_wait(ready, arg, what))
			ft_die(FT_EXIT_SPLAT);
	}
	ft_time_add(cause, start);
}

void ft_page_wait_yield(void)
{
	u64 start = ft_time_start();

	ft_sched_yield();
	ft_time_add(FT_TIME_PAGE, start);
}

u64 ft_serial_steps(void)
{
	return __atomic_load_n(&serial.steps, __ATOMIC_RELAXED);
}

void ft_serial_get_stats(struct ft_serial_stats *st)
{
	hide_begin();
	*st = (struct ft_serial_stats){
		.steps = serial.steps, .switches = serial.switches,
		.hash = serial.hash, .blocked = serial.blocked,
		.delayed = serial.delayed,
		.nr_threads = serial.p.nr_threads,
		.pct_depth = serial.p.pct_depth, .pct_steps = serial.p.pct_steps,
	};
	hide_end();
}

/* ---- Delayed stores (include/ft/sched.h) ------------------------------------ */

#define FT_SB_ENTRIES	8

_Thread_local unsigned int ft_sb_pending;
static _Thread_local struct {
	atomic_t *v;
	int delta;
} sb[FT_SB_ENTRIES];

/* An even draw from the scheduler's stream, taken with the turn held. */
static bool draw_delay(void)
{
	bool delay;

	hide_begin();
	delay = ft_random_below(&serial.rs, 2);
	serial.delayed += delay;
	hide_end();
	return delay;
}

void ft_store_delayable_add(int i, atomic_t *v)
{
	if (!ft_serial_on() || ft_sb_pending == FT_SB_ENTRIES || !draw_delay()) {
		atomic_add(i, v);
		return;
	}
	sb[ft_sb_pending].v = v;
	sb[ft_sb_pending].delta = i;
	ft_sb_pending++;
}

int __ft_sb_forward(const int *counter, int val)
{
	for (unsigned int i = 0; i < ft_sb_pending; i++)
		if (&sb[i].v->counter == counter)
			val += sb[i].delta;
	return val;
}

/* In program order; raw adds, the shims would drain again. */
void __ft_sb_drain(void)
{
	unsigned int n = ft_sb_pending;

	ft_sb_pending = 0;
	for (unsigned int i = 0; i < n; i++)
		__atomic_fetch_add(&sb[i].v->counter, sb[i].delta, __ATOMIC_RELAXED);
}

double ft_pct_bound(const struct ft_serial_stats *st)
{
	double k = (double)(st->steps ? st->steps : 1), b = 1.0 / st->nr_threads;

	for (u32 i = 1; i < st->pct_depth; i++)
		b /= k;
	return b;
}
