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
 * A waiter that is not next in line sleeps, as on the kernel rwsem's wait
 * list: spinning or yielding cannot bring its turn closer, and with more
 * threads than CPUs it takes the CPU from the thread whose turn it is
 * (measured: validate_lock --kind=rwsem under TSan next to another test,
 * 52 s yield-spinning).  The sleep is bounded so the stall check still runs.
 */
#define RWSEM_SLEEP_NS	(10 * NSEC_PER_MSEC)

static void rwsem_sleep(struct rw_semaphore *sem, u32 serving)
{
	struct timespec ts = { .tv_nsec = RWSEM_SLEEP_NS };

	ck_pr_inc_32(&sem->sleepers);
	/* Returns at once if the turn moved since we read @serving. */
	syscall(SYS_futex, &sem->t.serving, FUTEX_WAIT_PRIVATE, serving, &ts,
		NULL, 0);
	ck_pr_dec_32(&sem->sleepers);
}

static void rwsem_wake(struct rw_semaphore *sem)
{
	/* Pairs with the increment in rwsem_sleep(): the serving update in
	 * pass_turn() is a locked RMW, a full barrier before this load. */
	if (ck_pr_load_32(&sem->sleepers))
		syscall(SYS_futex, &sem->t.serving, FUTEX_WAKE_PRIVATE, INT_MAX,
			NULL, NULL, 0);
}

void __init_rwsem(struct rw_semaphore *sem, const char *name,
		  struct lock_class_key *key)
{
	sem->t.word = 0;
	sem->readers = 0;
	sem->sleepers = 0;
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
		if (ticket - serving > 1 && !ft_serial_on() &&
		    ++w.spins >= SPINS_BEFORE_YIELD) {
			spin_wait_begin(&w);
			rwsem_sleep(sem, serving);
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
	ck_pr_inc_32(&sem->t.serving);
	rwsem_wake(sem);
}

static bool readers_drained(const void *sem)
{
	return !ck_pr_load_32(&((struct rw_semaphore *)sem)->readers);
}

static void wait_readers_drained(struct rw_semaphore *sem)
{
	struct spin_wait w = SPIN_WAIT(&sem->dep_map, &sem->dep_map, -1, sem, 0,
				       readers_drained, sem);

	while (ck_pr_load_32(&sem->readers))
		spin_wait_once(&w);
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
	ck_pr_dec_32(&sem->readers);
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

bool rwsem_is_contended(struct rw_semaphore *sem)
{
	union rwsem_ticket t = { .word = ck_pr_load_64(&sem->t.word) };

	/* Held by a writer with someone queued, or anyone queued at all
	 * behind readers who already passed the turn on. */
	return (u32)(t.next - t.serving) > 1 ||
	       (t.next != t.serving && ck_pr_load_32(&sem->readers));
}
