// SPDX-License-Identifier: GPL-2.0-only
/*
 * tsan_canary --mode=MODE [--kind=NAME]: the TSan canary pair for the
 * lock model's claim "every lock tells TSan what it is".
 *
 *   guarded	threads increment a plain counter under the kind's lock
 *		(readers read it under the read lock): must be TSan-clean
 *   unguarded	the same, but one thread skips the lock: TSan must report
 *		(exit 66), or the clean result above proves nothing
 *   ck-bare	the counter under a bare ck_spinlock_fas, no annotations:
 *		TSan reports it (the measurement that CK as shipped is
 *		invisible to TSan, kept true by a test)
 *   seqcount	writers under a spinlock, readers with READ_ONCE under
 *		read_seqcount_begin/retry: must be TSan-clean
 *   atomic-seqcount  rmap_id's raw_atomic_seqcount_t: exclusive writers
 *		increment a plain counter, shared writers read it plainly
 *		(and add to an atomic one), readers retry: TSan-clean, so
 *		TSan sees that an exclusive writer runs alone
 *   atomic-seqcount-ignores-shared  the same with H4 injected (an
 *		exclusive writer that ignores shared ones): TSan reports
 *   nested	two locks of one class taken in both orders under an outer
 *		lock, the inner one with spin_lock_nested(): TSan reports
 *		the lock-order inversion it cannot see is serialized
 *   nested-serialized  the same with spin_lock_nested_serialized() (as
 *		mremap's two PTLs): clean, and the counter still guarded
 *
 * --serial runs the threads under the serial scheduler (sched.h), one at
 * a time: guarded must stay clean and unguarded must still be reported,
 * which shows the handoff's own synchronization is hidden from TSan and
 * does not order the model's accesses for it.
 */
#include <ck_spinlock.h>
#include <pthread.h>

#include "ft/lock.h"
#include "ft/zoo.h"
#include "ft_test.h"

#define NR_THREADS 4
#define ITERS 20000
#define SERIAL_ITERS 2000	/* a switch costs microseconds */

static const struct ft_lock_kind *kind;
static void *lock;
static ck_spinlock_fas_t bare = CK_SPINLOCK_FAS_INITIALIZER;
static spinlock_t seq_lock;
static seqcount_t seq;
static long counter;
static unsigned long seq_data;
static const char *mode;
static bool serial;
static int iters = ITERS;
static spinlock_t outer, pair[2];

static void *guarded_fn(void *arg)
{
	long id = (long)arg;
	bool skip = !strcmp(mode, "unguarded") && id == 0;

	if (serial)
		ft_serial_enter((int)id);
	for (int i = 0; i < iters; i++) {
		if (skip) {
			counter++;	/* the deliberate race */
		} else if ((kind->caps & FT_LK_READERS) && i % 3 == 0) {
			long v;

			kind->read_lock(lock, LOCK_SITE());
			v = counter;
			kind->read_unlock(lock, LOCK_SITE());
			(void)v;
		} else {
			kind->lock(lock, LOCK_SITE());
			counter++;
			kind->unlock(lock, LOCK_SITE());
		}
	}
	if (serial)
		ft_serial_exit();
	return NULL;
}

static void *ck_bare_fn(void *arg)
{
	for (int i = 0; i < ITERS; i++) {
		ck_spinlock_fas_lock(&bare);
		counter++;
		ck_spinlock_fas_unlock(&bare);
	}
	return arg;
}

static void *seqcount_fn(void *arg)
{
	long id = (long)arg;

	for (int i = 0; i < ITERS; i++) {
		if (id == 0) {
			spin_lock(&seq_lock);
			write_seqcount_begin(&seq);
			WRITE_ONCE(seq_data, seq_data + 1);
			write_seqcount_end(&seq);
			spin_unlock(&seq_lock);
		} else {
			unsigned long v;
			unsigned int s;

			do {
				s = read_seqcount_begin(&seq);
				v = READ_ONCE(seq_data);
			} while (read_seqcount_retry(&seq, s));
			(void)v;
		}
	}
	return NULL;
}

static raw_atomic_seqcount_t aseq;
static unsigned long aseq_shared;
DEFINE_ATOMIC_SEQCOUNT_CLASS(aseq_class, "aseq");

/*
 * Thread 3 reads; thread 0 always writes shared, the others exclusively
 * when they can.  Without a writer that stays shared, the exclusive ones
 * met a shared section a few times a run (only after failing to get the
 * section), and under H4 TSan missed the race about once in 100 runs.
 */
static void *atomic_seqcount_fn(void *arg)
{
	long id = (long)arg;

	for (int i = 0; i < ITERS; i++) {
		unsigned long start;
		bool excl;

		if (id == NR_THREADS - 1) {
			do {
				start = raw_read_atomic_seqcount_begin(&aseq, &aseq_class);
				(void)READ_ONCE(aseq_shared);
			} while (raw_read_atomic_seqcount_retry(&aseq, start));
			continue;
		}
		excl = raw_write_atomic_seqcount_begin(&aseq, id != 0, &aseq_class);
		if (excl) {
			counter++;	/* plain: the exclusive writer is alone */
		} else {
			long v = counter;	/* plain reads among shared writers */

			__atomic_fetch_add(&aseq_shared, (unsigned long)v & 1, __ATOMIC_RELAXED);
		}
		raw_write_atomic_seqcount_end(&aseq, excl, &aseq_class);
	}
	return NULL;
}

/* pair[] in both orders, always under outer. */
static void *nested_fn(void *arg)
{
	bool ser = !strcmp(mode, "nested-serialized");

	for (int i = 0; i < ITERS; i++) {
		spinlock_t *a = &pair[i & 1], *b = &pair[!(i & 1)];

		spin_lock(&outer);
		spin_lock(a);
		if (ser)
			spin_lock_nested_serialized(b, SINGLE_DEPTH_NESTING);
		else
			spin_lock_nested(b, SINGLE_DEPTH_NESTING);
		counter++;
		spin_unlock(b);
		spin_unlock(a);
		spin_unlock(&outer);
	}
	return arg;
}

int main(int argc, char **argv)
{
	void *(*fn)(void *) = guarded_fn;
	pthread_t t[NR_THREADS];

	mode = ft_test_arg(argc, argv, "--mode", "guarded");
	serial = ft_test_flag(argc, argv, "--serial");
	kind = ft_lock_kind_find(ft_test_arg(argc, argv, "--kind", "spinlock"));
	if (!kind)
		return FT_EXIT_USAGE;
	lock = calloc(1, kind->size);
	kind->init(lock);
	spin_lock_init(&seq_lock);
	seqcount_init(&seq);
	spin_lock_init(&outer);
	for (int i = 0; i < 2; i++)
		spin_lock_init(&pair[i]);	/* one site: one class */
	if (!strcmp(mode, "ck-bare"))
		fn = ck_bare_fn;
	else if (!strcmp(mode, "seqcount"))
		fn = seqcount_fn;
	else if (!strcmp(mode, "nested") || !strcmp(mode, "nested-serialized"))
		fn = nested_fn;
	else if (!strcmp(mode, "atomic-seqcount"))
		fn = atomic_seqcount_fn;
	else if (!strcmp(mode, "atomic-seqcount-ignores-shared") &&
		 !ft_inject_enable("seqcount-exclusive-ignores-shared"))
		fn = atomic_seqcount_fn;
	else if (strcmp(mode, "guarded") && strcmp(mode, "unguarded"))
		return FT_EXIT_USAGE;
	if (serial) {
		struct ft_serial_params sp = {
			.nr_threads = NR_THREADS, .strategy = FT_SCHED_RANDOM,
			.seed = 1, .pct_depth = 1, .pct_steps = 1,
		};

		if (fn != guarded_fn || ft_serial_init(&sp))
			return FT_EXIT_USAGE;
		iters = SERIAL_ITERS;
	}
	for (long i = 0; i < NR_THREADS; i++)
		pthread_create(&t[i], NULL, fn, (void *)i);
	for (int i = 0; i < NR_THREADS; i++)
		pthread_join(t[i], NULL);
	printf("tsan_canary: mode=%s%s kind=%s counter=%ld\n", mode,
	       serial ? " serial" : "", kind->name, counter);
	if (serial)
		ft_serial_destroy();
	free(lock);
	return FT_EXIT_SUCCESS;
}
