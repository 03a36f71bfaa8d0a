// SPDX-License-Identifier: GPL-2.0-only
/*
 * validate_seqcount [--writers=N] [--readers=N] [--iters=N] [--no-retry]
 *
 * Writers, serialized by a spinlock as write_seqcount_begin() requires,
 * update a pair (x, y) that is always equal outside a write section,
 * yielding in the middle now and then; readers retry until
 * read_seqcount_retry() says their snapshot was stable and must then see
 * x == y.  Inside its write section a writer must see an odd
 * raw_read_seqcount(), as GUP-fast does when it bails out.
 * --no-retry is the negative control: readers trust their first snapshot,
 * and the torn-read check must fire.  Whether a reader lands inside a
 * write section depends on scheduling, so the control runs until the first
 * torn read with a budget of 100 times the iterations (measured: the first
 * one comes within a few thousand writes even on a loaded machine).
 */
#include <pthread.h>
#include <sched.h>

#include "ft/lock.h"
#include "ft_test.h"

struct shared {
	spinlock_t lock;
	seqcount_t seq;
	unsigned long x, y;	/* READ_ONCE/WRITE_ONCE data */
	long writes;		/* guarded by lock */
	u64 iters;
	bool retry;
	bool torn_seen;		/* atomic: ends the negative control early */
	int writers_left;	/* atomic: readers read until it is 0 */
};

struct worker {
	struct shared *sh;
	pthread_t pthread;
	u64 writes, reads, retries, torn, even_inside;
};

static void *writer_fn(void *arg)
{
	struct worker *w = arg;
	struct shared *sh = w->sh;

	u64 budget = sh->retry ? sh->iters : 100 * sh->iters;

	for (u64 i = 0; i < budget; i++) {
		if (!sh->retry && __atomic_load_n(&sh->torn_seen, __ATOMIC_RELAXED))
			break;
		spin_lock(&sh->lock);
		write_seqcount_begin(&sh->seq);
		if (!(raw_read_seqcount(&sh->seq) & 1))
			w->even_inside++;
		WRITE_ONCE(sh->x, sh->x + 1);
		if (i % 64 == 0)
			sched_yield();
		WRITE_ONCE(sh->y, sh->y + 1);
		sh->writes++;
		write_seqcount_end(&sh->seq);
		spin_unlock(&sh->lock);
		w->writes++;
	}
	__atomic_fetch_sub(&sh->writers_left, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void *reader_fn(void *arg)
{
	struct worker *w = arg;
	struct shared *sh = w->sh;

	/* At least @iters reads, and on until every writer is done. */
	for (u64 i = 0; i < sh->iters ||
	     __atomic_load_n(&sh->writers_left, __ATOMIC_ACQUIRE); i++) {
		unsigned long x, y;
		unsigned int seq;

		for (;;) {
			seq = read_seqcount_begin(&sh->seq);
			x = READ_ONCE(sh->x);
			y = READ_ONCE(sh->y);
			if (!sh->retry || !read_seqcount_retry(&sh->seq, seq))
				break;
			w->retries++;
		}
		if (x != y) {
			w->torn++;
			__atomic_store_n(&sh->torn_seen, true, __ATOMIC_RELAXED);
		}
		w->reads++;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	u64 nw = ft_test_arg_u64(argc, argv, "--writers", 2);
	u64 nr = ft_test_arg_u64(argc, argv, "--readers", 4);
	struct shared sh = {
		.iters = ft_test_arg_u64(argc, argv, "--iters", 50000),
		.retry = !ft_test_flag(argc, argv, "--no-retry"),
	};
	struct worker *ws = calloc(nw + nr, sizeof(*ws));
	u64 writes = 0, torn = 0, retries = 0, even = 0;
	struct ft_ktap k = { 0 };

	spin_lock_init(&sh.lock);
	seqcount_init(&sh.seq);
	sh.writers_left = (int)nw;
	for (u64 i = 0; i < nw + nr; i++) {
		ws[i].sh = &sh;
		pthread_create(&ws[i].pthread, NULL, i < nw ? writer_fn : reader_fn,
			       &ws[i]);
	}
	for (u64 i = 0; i < nw + nr; i++) {
		pthread_join(ws[i].pthread, NULL);
		writes += ws[i].writes;
		torn += ws[i].torn;
		retries += ws[i].retries;
		even += ws[i].even_inside;
	}
	ft_ktap_start(3);
	ft_ktap_result(&k, torn == 0, "seqcount: %llu torn reads accepted "
		       "(%llu retries)", (unsigned long long)torn,
		       (unsigned long long)retries);
	ft_ktap_result(&k, (u64)sh.writes == writes && sh.x == writes &&
		       sh.y == writes && !(raw_read_seqcount(&sh.seq) & 1),
		       "seqcount: writes exact, sequence even at rest");
	ft_ktap_result(&k, even == 0, "seqcount: odd inside every write section");
	free(ws);
	return ft_ktap_finish(&k);
}
