// SPDX-License-Identifier: GPL-2.0-only
/*
 * validate_lock --kind=NAME [--threads=N] [--iters=N]
 *
 * Mutual exclusion of one lock kind under contention (default 6 threads on
 * the 2-core machine): writers increment a plain counter and a guarded pair
 * (a, b); readers, where the kind has them, must see a == b and no writer;
 * trylocks and downgrades are mixed in.  At the end the counter must equal
 * the number of writes exactly.  For a bit spinlock, two more threads flip
 * other bits of the lock's word atomically the whole time and check that
 * no flip is lost; the first lost flip ends the run (a broken lock is
 * found, and its negative control can ask for many iterations without
 * waiting for all of them).  Plain accesses on purpose: under the tsan
 * preset, a lock that TSan cannot see is a report.  The "busted" and
 * "busted_bit" kinds must fail here.
 */
#include <pthread.h>

#include "ft/lock.h"
#include "ft_test.h"

#define NR_FLIPPERS 2

struct shared {
	const struct ft_lock_kind *kind;
	void *lock;
	u64 iters;
	long counter, a, b;	/* guarded by the lock */
	int writer_in;		/* atomic: the exclusion check */
	int workers_done;	/* atomic: the flippers stop */
	int flip_lost;		/* atomic: the workers stop */
};

struct worker {
	struct shared *sh;
	int id;
	pthread_t pthread;
	u64 writes, reads, bad;
};

static void write_section(struct worker *w)
{
	struct shared *sh = w->sh;

	if (__atomic_fetch_add(&sh->writer_in, 1, __ATOMIC_ACQ_REL))
		w->bad++;
	sh->a++;
	for (int i = 0; i < 16; i++)
		cpu_relax();
	sh->b++;
	sh->counter++;
	__atomic_fetch_sub(&sh->writer_in, 1, __ATOMIC_ACQ_REL);
	w->writes++;
}

static void read_section(struct worker *w)
{
	struct shared *sh = w->sh;

	if (sh->a != sh->b || __atomic_load_n(&sh->writer_in, __ATOMIC_ACQUIRE))
		w->bad++;
	w->reads++;
}

static void one_op(struct worker *w, u64 i)
{
	const struct ft_lock_kind *k = w->sh->kind;
	void *l = w->sh->lock;
	u64 r = (i + (u64)w->id) % 8;

	if ((k->caps & FT_LK_READERS) && r < 3) {
		if (r == 0 && !k->read_trylock(l, LOCK_SITE()))
			return;
		if (r != 0)
			k->read_lock(l, LOCK_SITE());
		read_section(w);
		k->read_unlock(l, LOCK_SITE());
		return;
	}
	if (r == 3) {
		if (!k->trylock(l, LOCK_SITE()))
			return;
	} else {
		k->lock(l, LOCK_SITE());
	}
	write_section(w);
	if ((k->caps & FT_LK_DOWNGRADE) && r == 4) {
		k->downgrade(l, LOCK_SITE());
		read_section(w);
		k->read_unlock(l, LOCK_SITE());
		return;
	}
	k->unlock(l, LOCK_SITE());
}

static void *worker_fn(void *arg)
{
	struct worker *w = arg;

	for (u64 i = 0; i < w->sh->iters &&
	     !__atomic_load_n(&w->sh->flip_lost, __ATOMIC_RELAXED); i++)
		one_op(w, i);
	return NULL;
}

/*
 * Bits 0 and 1 of the word belong to the flippers, never to the lock; they
 * flip until the workers are done, so every unlock races with them.
 */
static void *flipper_fn(void *arg)
{
	struct worker *w = arg;
	unsigned long *word = w->sh->lock, bit = BIT(w->id);
	bool expect = false;	/* my bit as I last left it */

	while (!__atomic_load_n(&w->sh->workers_done, __ATOMIC_ACQUIRE)) {
		bool was = __atomic_fetch_xor(word, bit, __ATOMIC_RELAXED) & bit;

		if (was != expect) {	/* someone lost my last flip */
			w->bad++;
			__atomic_store_n(&w->sh->flip_lost, 1, __ATOMIC_RELAXED);
		}
		expect = !was;
	}
	if (!!(__atomic_load_n(word, __ATOMIC_RELAXED) & bit) != expect)
		w->bad++;
	return NULL;
}

int main(int argc, char **argv)
{
	const char *name = ft_test_arg(argc, argv, "--kind", "spinlock");
	u64 nr = ft_test_arg_u64(argc, argv, "--threads", 6);
	struct shared sh = {
		.kind = ft_lock_kind_find(name),
		.iters = ft_test_arg_u64(argc, argv, "--iters", 100000),
	};
	struct worker *ws, fl[NR_FLIPPERS] = { 0 };
	u64 writes = 0, reads = 0, bad = 0, flip_bad = 0;
	struct ft_ktap k = { 0 };
	bool flips;

	if (!sh.kind || !nr) {
		fprintf(stderr, "validate_lock: unknown kind '%s' or no threads\n", name);
		return FT_EXIT_USAGE;
	}
	flips = sh.kind->caps & FT_LK_SHARED_WORD;
	sh.lock = calloc(1, sh.kind->size);
	ws = calloc(nr, sizeof(*ws));
	sh.kind->init(sh.lock);
	for (u64 i = 0; i < nr; i++) {
		ws[i] = (struct worker){ .sh = &sh, .id = (int)i };
		pthread_create(&ws[i].pthread, NULL, worker_fn, &ws[i]);
	}
	for (int i = 0; flips && i < NR_FLIPPERS; i++) {
		fl[i] = (struct worker){ .sh = &sh, .id = i };
		pthread_create(&fl[i].pthread, NULL, flipper_fn, &fl[i]);
	}
	for (u64 i = 0; i < nr; i++) {
		pthread_join(ws[i].pthread, NULL);
		writes += ws[i].writes;
		reads += ws[i].reads;
		bad += ws[i].bad;
	}
	__atomic_store_n(&sh.workers_done, 1, __ATOMIC_RELEASE);
	for (int i = 0; flips && i < NR_FLIPPERS; i++) {
		pthread_join(fl[i].pthread, NULL);
		flip_bad += fl[i].bad;
	}

	ft_ktap_start(flips ? 3 : 2);
	ft_ktap_result(&k, bad == 0, "%s: exclusion: %llu violations in %llu "
		       "writes, %llu reads", name, (unsigned long long)bad,
		       (unsigned long long)writes, (unsigned long long)reads);
	ft_ktap_result(&k, (u64)sh.counter == writes,
		       "%s: counter exact: %ld == %llu writes", name, sh.counter,
		       (unsigned long long)writes);
	if (flips)
		ft_ktap_result(&k, flip_bad == 0 &&
			       !(*(unsigned long *)sh.lock & BIT(FT_LK_BITNUM)),
			       "%s: other bits of the word: %llu lost flips",
			       name, (unsigned long long)flip_bad);
	free(ws);
	free(sh.lock);
	return ft_ktap_finish(&k);
}
