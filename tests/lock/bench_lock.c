// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench_lock [--iters=N]: what a lock operation of the model costs.
 *
 * For each kind: ns per lock+unlock pair by one thread (uncontended), with
 * the validator on and off, and by 4 threads on one lock (contended, the
 * spin-then-yield path).  Figures, not a pass/fail test: run it on the
 * release preset and record the numbers in README.md.
 */
#include <pthread.h>

#include "ft/lock.h"
#include "ft_test.h"

struct bench {
	const struct ft_lock_kind *kind;
	void *lock;
	u64 iters;
};

static void *loop(void *arg)
{
	struct bench *b = arg;

	for (u64 i = 0; i < b->iters; i++) {
		b->kind->lock(b->lock, LOCK_SITE());
		b->kind->unlock(b->lock, LOCK_SITE());
	}
	return NULL;
}

static double run(struct bench *b, int threads)
{
	pthread_t t[8];
	u64 start = ft_now_ns();

	for (int i = 0; i < threads; i++)
		pthread_create(&t[i], NULL, loop, b);
	for (int i = 0; i < threads; i++)
		pthread_join(t[i], NULL);
	return (double)(ft_now_ns() - start) / (double)(b->iters * (u64)threads);
}

int main(int argc, char **argv)
{
	u64 iters = ft_test_arg_u64(argc, argv, "--iters", 2000000);

	printf("%-14s %14s %14s %18s\n", "kind", "lockdep ns/op", "no-lockdep",
	       "4 threads ns/op");
	for (int i = 0; ft_lock_kinds[i]; i++) {
		struct bench b = { .kind = ft_lock_kinds[i], .iters = iters };
		double on, off, contended;

		if (b.kind->caps & FT_LK_BUSTED)
			continue;
		b.lock = calloc(1, b.kind->size);
		b.kind->init(b.lock);
		lockdep_set_enabled(true);
		on = run(&b, 1);
		lockdep_set_enabled(false);
		off = run(&b, 1);
		b.iters = iters / 8;
		contended = run(&b, 4);
		printf("%-14s %14.1f %14.1f %18.1f\n", b.kind->name, on, off,
		       contended);
		free(b.lock);
	}
	return 0;
}
