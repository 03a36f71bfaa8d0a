// SPDX-License-Identifier: GPL-2.0-only
/*
 * validate_contended: the waiter-visible states.
 *
 *  - spin_is_contended() turns true while a thread waits for a held
 *    spinlock (what spin_needbreak() tells zap and fork), false after;
 *  - rwsem_is_contended() likewise for a writer and for readers;
 *  - rwsem_has_writer() with a writer holding or waiting, not with
 *    readers alone (the torture passes over such an mm's process);
 *  - writer-fairness: once a writer waits behind readers, a new reader's
 *    down_read_trylock() fails, so readers cannot starve the writer.
 */
#include <pthread.h>

#include "ft/lock.h"
#include "ft_test.h"

static spinlock_t lock;
static struct rw_semaphore sem;
static int tried, try_ok;

static bool wait_until(bool (*cond)(void))
{
	for (int i = 0; i < 5000; i++) {	/* 5 s */
		if (cond())
			return true;
		ft_sleep_ns(NSEC_PER_MSEC);
	}
	return false;
}

static bool spin_contended(void)
{
	return spin_is_contended(&lock);
}

static bool sem_contended(void)
{
	return rwsem_is_contended(&sem);
}

static void *spin_waiter(void *arg)
{
	spin_lock(&lock);
	spin_unlock(&lock);
	return arg;
}

static void *sem_reader(void *arg)
{
	down_read(&sem);
	up_read(&sem);
	return arg;
}

static void *sem_writer(void *arg)
{
	down_write(&sem);
	up_write(&sem);
	return arg;
}

static void *sem_late_reader(void *arg)
{
	int ok = down_read_trylock(&sem);

	if (ok)
		up_read(&sem);
	__atomic_store_n(&try_ok, ok, __ATOMIC_RELAXED);
	__atomic_store_n(&tried, 1, __ATOMIC_RELEASE);
	return arg;
}

int main(void)
{
	struct ft_ktap k = { 0 };
	pthread_t t, t2;
	bool seen;

	spin_lock_init(&lock);
	init_rwsem(&sem);
	ft_ktap_start(8);

	spin_lock(&lock);
	pthread_create(&t, NULL, spin_waiter, NULL);
	seen = wait_until(spin_contended);
	spin_unlock(&lock);
	pthread_join(t, NULL);
	ft_ktap_result(&k, seen, "spin_is_contended() while a thread waits");
	ft_ktap_result(&k, !spin_is_contended(&lock) && !spin_is_locked(&lock),
		       "spinlock neither contended nor locked afterwards");

	down_read(&sem);
	seen = rwsem_has_writer(&sem);
	up_read(&sem);
	down_write(&sem);
	ft_ktap_result(&k, !seen && rwsem_has_writer(&sem),
		       "rwsem_has_writer() with a writer, not with a reader alone");
	pthread_create(&t, NULL, sem_reader, NULL);
	seen = wait_until(sem_contended);
	up_write(&sem);
	pthread_join(t, NULL);
	ft_ktap_result(&k, seen, "rwsem_is_contended() with a reader behind a writer");

	down_read(&sem);
	pthread_create(&t, NULL, sem_writer, NULL);
	seen = wait_until(sem_contended);
	ft_ktap_result(&k, rwsem_has_writer(&sem),
		       "rwsem_has_writer() with a writer waiting behind a reader");
	pthread_create(&t2, NULL, sem_late_reader, NULL);
	pthread_join(t2, NULL);
	up_read(&sem);
	pthread_join(t, NULL);
	ft_ktap_result(&k, seen, "rwsem_is_contended() with a writer behind a reader");
	ft_ktap_result(&k, __atomic_load_n(&tried, __ATOMIC_ACQUIRE) && !try_ok,
		       "writer-fair: a late reader cannot pass a waiting writer");
	ft_ktap_result(&k, !rwsem_is_locked(&sem) && !rwsem_is_contended(&sem) &&
		       !rwsem_has_writer(&sem),
		       "rwsem neither locked, contended nor writer-held afterwards");
	return ft_ktap_finish(&k);
}
