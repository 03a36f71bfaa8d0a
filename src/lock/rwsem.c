// SPDX-License-Identifier: GPL-2.0-only
/*
 * rw_semaphore as a FIFO ticket rwlock on ck_pr operations (see lock.h for
 * why that is writer-fair).  Memory ordering, in pairs:
 *   - a reader's readers++ happens before its release of the turn
 *     (serving++), and a writer acquires the turn before it reads @readers:
 *     a writer served after a reader sees that reader counted;
 *   - up_read()'s readers-- is a release the writer's acquire load of
 *     @readers pairs with; up_write()'s serving++ is a release that the next
 *     acquirer's acquire of the turn pairs with.
 * Only the owner of the current turn writes @serving.
 */
#include <limits.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

/*
 * A waiter that has spun a little sleeps, as on the kernel rwsem's wait
 * list: yielding in a loop cannot bring its turn closer, and with more
 * threads than CPUs it takes the CPU from the thread whose turn it is
 * (measured: validate_lock --kind=rwsem under TSan next to another test,
 * 52 s yield-spinning; the torture run's time by cause, mmap_lock waits).
 * Each sleeps on its ticket's bit of @serving (FUTEX_WAIT_BITSET), so a
 * pass of the turn wakes the next in line, not every waiter.  A writer
 * that owns the turn sleeps on @readers until the last reader leaves.
 * Sleeps are bounded so that the stall check still runs.
 */
#define RWSEM_SLEEP_NS	(10 * NSEC_PER_MSEC)

static u32 ticket_bit(u32 ticket)
{
	return 1u << (ticket % 32);
}

/* Sleep while *@word is @val, at most RWSEM_SLEEP_NS; @bit: whose wake. */
static void futex_sleep(u32 *word, u32 val, u32 bit)
{
	struct timespec ts;

	/* FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC deadline. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_nsec += RWSEM_SLEEP_NS;
	if (ts.tv_nsec >= (long)NSEC_PER_SEC) {
		ts.tv_sec++;
		ts.tv_nsec -= (long)NSEC_PER_SEC;
	}
	/* Returns at once if *@word moved since we read @val. */
	syscall(SYS_futex, word, FUTEX_WAIT_BITSET_PRIVATE, val, &ts, NULL, bit);
}

static void rwsem_sleep(struct rw_semaphore *sem, u32 serving, u32 ticket)
{
	ck_pr_inc_32(&sem->sleepers);
	futex_sleep(&sem->t.serving, serving, ticket_bit(ticket));
	ck_pr_dec_32(&sem->sleepers);
}

static void rwsem_wake(struct rw_semaphore *sem, u32 serving)
{
	/* Pairs with the increment in rwsem_sleep(): the serving update in
	 * pass_turn() is a locked RMW, a full barrier before this load. */
	if (ck_pr_load_32(&sem->sleepers))
		syscall(SYS_futex, &sem->t.serving, FUTEX_WAKE_BITSET_PRIVATE,
			INT_MAX, NULL, NULL, ticket_bit(serving));
}

void __init_rwsem(struct rw_semaphore *sem, const char *name,
		  struct lock_class_key *key)
{
	sem->t.word = 0;
	sem->readers = 0;
	sem->sleepers = 0;
	sem->drainer = 0;
	sem->dep_map = (struct lockdep_map){
		.key = key, .name = name, .kind = LOCK_KIND_RWSEM,
	};
	tsan_create(sem, 0);
}

struct turn_wait {
	struct rw_semaphore *sem;
	u32 ticket;
};

static bool my_turn(const void *arg)
{
	const struct turn_wait *tw = arg;

	return ck_pr_load_32(&tw->sem->t.serving) == tw->ticket;
}

static void wait_turn(struct rw_semaphore *sem, u32 ticket,
		      unsigned int tsan_flags)
{
	struct turn_wait tw = { sem, ticket };
	struct spin_wait w = SPIN_WAIT(&sem->dep_map, &sem->dep_map, -1, sem,
				       tsan_flags, my_turn, &tw);

	u32 serving;

	while ((serving = ck_pr_load_32(&sem->t.serving)) != ticket) {
		if (!ft_serial_on() && ++w.spins >= SPINS_BEFORE_YIELD) {
			spin_wait_begin(&w);
			rwsem_sleep(sem, serving, ticket);
			spin_wait_check_stall(&w);
			continue;
		}
		spin_wait_once(&w);
	}
	ck_pr_fence_acquire();
	spin_wait_end(&w);
}

static void pass_turn(struct rw_semaphore *sem)
{
	ck_pr_fence_release();
	/* Only the turn's owner writes @serving; a locked increment rather
	 * than a store, for the barrier rwsem_wake() needs. */
	rwsem_wake(sem, ck_pr_faa_32(&sem->t.serving, 1) + 1);
}

static bool readers_drained(const void *sem)
{
	return !ck_pr_load_32(&((struct rw_semaphore *)sem)->readers);
}

static void wait_readers_drained(struct rw_semaphore *sem)
{
	struct spin_wait w = SPIN_WAIT(&sem->dep_map, &sem->dep_map, -1, sem, 0,
				       readers_drained, sem);
	u32 readers;

	/* We own the turn: no reader enters, @readers only falls. */
	while ((readers = ck_pr_load_32(&sem->readers))) {
		if (!ft_serial_on() && ++w.spins >= SPINS_BEFORE_YIELD) {
			spin_wait_begin(&w);
			ck_pr_store_32(&sem->drainer, 1);
			/* Store, full barrier, load, as up_read() does with
			 * its locked decrement: one of us sees the other. */
			ck_pr_fence_memory();
			futex_sleep(&sem->readers, readers, FUTEX_BITSET_MATCH_ANY);
			spin_wait_check_stall(&w);
			continue;
		}
		spin_wait_once(&w);
	}
	ck_pr_store_32(&sem->drainer, 0);
	ck_pr_fence_acquire();
	spin_wait_end(&w);
}

/* Take a ticket only if it would be served at once. */
static bool take_free_turn(struct rw_semaphore *sem)
{
	union rwsem_ticket old, new;

	old.word = ck_pr_load_64(&sem->t.word);
	if (old.next != old.serving)
		return false;
	new = old;
	new.next++;
	if (!ck_pr_cas_64(&sem->t.word, old.word, new.word))
		return false;
	ck_pr_fence_acquire();
	return true;
}

static void reader_enter(struct rw_semaphore *sem)
{
	ck_pr_inc_32(&sem->readers);
	pass_turn(sem);
}

void _down_read(struct rw_semaphore *sem, unsigned int subclass,
		const struct lock_site *site)
{
	bool dl = lockdep_enabled();

	ft_sched_point(FT_SP_LOCK);
	if (dl)
		lock_acquire(&sem->dep_map, &sem->dep_map, -1, subclass,
			     LOCK_F_READ, site);
	tsan_pre_lock(sem, FT_TSAN_READ);
	wait_turn(sem, ck_pr_faa_32(&sem->t.next, 1), FT_TSAN_READ);
	reader_enter(sem);
	tsan_post_lock(sem, FT_TSAN_READ);
	if (dl)
		lock_acquired(&sem->dep_map, -1);
}

void _down_write(struct rw_semaphore *sem, unsigned int subclass,
		 const struct lock_site *site)
{
	bool dl = lockdep_enabled();

	ft_sched_point(FT_SP_LOCK);
	if (dl)
		lock_acquire(&sem->dep_map, &sem->dep_map, -1, subclass, 0, site);
	tsan_pre_lock(sem, 0);
	wait_turn(sem, ck_pr_faa_32(&sem->t.next, 1), 0);
	wait_readers_drained(sem);
	tsan_post_lock(sem, 0);
	if (dl)
		lock_acquired(&sem->dep_map, -1);
}

bool _down_read_trylock(struct rw_semaphore *sem, const struct lock_site *site)
{
	ft_sched_point(FT_SP_LOCK);
	tsan_pre_lock(sem, FT_TSAN_READ | FT_TSAN_TRY);
	if (!take_free_turn(sem)) {
		tsan_post_lock(sem, FT_TSAN_READ | FT_TSAN_TRY | FT_TSAN_TRY_FAILED);
		return false;
	}
	reader_enter(sem);
	tsan_post_lock(sem, FT_TSAN_READ | FT_TSAN_TRY);
	if (lockdep_enabled())
		lock_acquire(&sem->dep_map, &sem->dep_map, -1, 0,
			     LOCK_F_READ | LOCK_F_TRYLOCK, site);
	return true;
}

bool _down_write_trylock(struct rw_semaphore *sem, const struct lock_site *site)
{
	ft_sched_point(FT_SP_LOCK);
	tsan_pre_lock(sem, FT_TSAN_TRY);
	/*
	 * Readers count themselves before passing the turn on, so once we own
	 * a turn that was free, @readers only falls: if it is not already
	 * zero, give the turn back rather than wait.
	 */
	if (ck_pr_load_32(&sem->readers) || !take_free_turn(sem)) {
		tsan_post_lock(sem, FT_TSAN_TRY | FT_TSAN_TRY_FAILED);
		return false;
	}
	if (ck_pr_load_32(&sem->readers)) {
		pass_turn(sem);
		tsan_post_lock(sem, FT_TSAN_TRY | FT_TSAN_TRY_FAILED);
		return false;
	}
	ck_pr_fence_acquire();
	tsan_post_lock(sem, FT_TSAN_TRY);
	if (lockdep_enabled())
		lock_acquire(&sem->dep_map, &sem->dep_map, -1, 0, LOCK_F_TRYLOCK,
			     site);
	return true;
}

void _up_read(struct rw_semaphore *sem, const struct lock_site *site)
{
	if (lockdep_enabled())
		lock_release(&sem->dep_map, &sem->dep_map, -1, site);
	if (unlikely(!ck_pr_load_32(&sem->readers)))
		lock_bug(&sem->dep_map, &sem->dep_map, -1,
			 "up_read of an rw_semaphore without readers", site);
	tsan_pre_unlock(sem, FT_TSAN_READ);
	ck_pr_fence_release();
	/* The last reader wakes a writer waiting for readers to drain. */
	if (ck_pr_faa_32(&sem->readers, -1) == 1 && ck_pr_load_32(&sem->drainer))
		syscall(SYS_futex, &sem->readers, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
	tsan_post_unlock(sem, FT_TSAN_READ);
	ft_sched_point(FT_SP_UNLOCK);
}

static bool write_owned(struct rw_semaphore *sem)
{
	union rwsem_ticket t = { .word = ck_pr_load_64(&sem->t.word) };

	return t.next != t.serving && !ck_pr_load_32(&sem->readers);
}

void _up_write(struct rw_semaphore *sem, const struct lock_site *site)
{
	if (lockdep_enabled())
		lock_release(&sem->dep_map, &sem->dep_map, -1, site);
	if (unlikely(!write_owned(sem)))
		lock_bug(&sem->dep_map, &sem->dep_map, -1,
			 "up_write of an rw_semaphore not write-locked", site);
	tsan_pre_unlock(sem, 0);
	pass_turn(sem);
	tsan_post_unlock(sem, 0);
	ft_sched_point(FT_SP_UNLOCK);
}

void _downgrade_write(struct rw_semaphore *sem, const struct lock_site *site)
{
	if (lockdep_enabled())
		lock_downgrade(&sem->dep_map, &sem->dep_map, site);
	if (unlikely(!write_owned(sem)))
		lock_bug(&sem->dep_map, &sem->dep_map, -1,
			 "downgrade_write of an rw_semaphore not write-locked", site);
	/* TSan has no downgrade: a write unlock and a read lock, with no
	 * window between them because we keep the turn until reader_enter. */
	tsan_pre_unlock(sem, 0);
	tsan_post_unlock(sem, 0);
	tsan_pre_lock(sem, FT_TSAN_READ);
	reader_enter(sem);
	tsan_post_lock(sem, FT_TSAN_READ);
	ft_sched_point(FT_SP_UNLOCK);
}

bool rwsem_is_locked(struct rw_semaphore *sem)
{
	union rwsem_ticket t = { .word = ck_pr_load_64(&sem->t.word) };

	return t.next != t.serving || ck_pr_load_32(&sem->readers);
}

bool rwsem_has_writer(struct rw_semaphore *sem)
{
	union rwsem_ticket t = { .word = ck_pr_load_64(&sem->t.word) };

	return t.next != t.serving;
}

bool rwsem_is_contended(struct rw_semaphore *sem)
{
	union rwsem_ticket t = { .word = ck_pr_load_64(&sem->t.word) };

	/* Held by a writer with someone queued, or anyone queued at all
	 * behind readers who already passed the turn on. */
	return (u32)(t.next - t.serving) > 1 ||
	       (t.next != t.serving && ck_pr_load_32(&sem->readers));
}
