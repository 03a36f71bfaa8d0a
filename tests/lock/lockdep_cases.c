// SPDX-License-Identifier: GPL-2.0-only
/*
 * lockdep_cases --case=NAME: one locking scenario per run.
 *
 * The negative controls of the validator: each "bad" case breaks a rule
 * once and ctest (tests/expect.sh) checks that the run ends with the splat's
 * exit code and text; each "ok" case is a legal pattern that must pass
 * untouched.  Cross-thread cases run their threads one after the other, so
 * the order inversion is reported although no deadlock can happen.
 */
#include <pthread.h>
#include <unistd.h>

#include "ft/lock.h"
#include "ft_test.h"

static spinlock_t lock_a, lock_b, lock_c;
static spinlock_t ptl_dst, ptl_src;
static struct rw_semaphore mmap_lock;
static seqcount_t seq;
static unsigned long word_a, word_b;
DEFINE_BIT_SPIN_CLASS(class_bit_a, "bit_a");
DEFINE_BIT_SPIN_CLASS(class_bit_b, "bit_b");
/* Two instances of one class, as two folios' seqcounts are. */
static raw_atomic_seqcount_t aseq[2];
DEFINE_ATOMIC_SEQCOUNT_CLASS(class_aseq, "aseq");

static void init_locks(void)
{
	/* One init site per class, as the kernel's classes are keyed. */
	spin_lock_init(&lock_a);
	spin_lock_init(&lock_b);
	spin_lock_init(&lock_c);
	init_rwsem(&mmap_lock);
	seqcount_init(&seq);
}

/* All PTLs share a class, as ptlock_init() gives them one. */
static void ptlock_init(spinlock_t *ptl)
{
	spin_lock_init(ptl);
}

static void init_ptls(void)
{
	ptlock_init(&ptl_dst);
	ptlock_init(&ptl_src);
}

/* Run @fn in a thread of its own and wait for it. */
static void in_thread(void *(*fn)(void *), const char *name)
{
	pthread_t t;

	pthread_create(&t, NULL, fn, (void *)name);
	pthread_join(t, NULL);
}

static void set_name(void *arg)
{
	pthread_setname_np(pthread_self(), arg);
}

static void *take_a_b(void *arg)
{
	set_name(arg);
	spin_lock(&lock_a);
	spin_lock(&lock_b);
	spin_unlock(&lock_b);
	spin_unlock(&lock_a);
	return NULL;
}

static void *take_b_a(void *arg)
{
	set_name(arg);
	spin_lock(&lock_b);
	spin_lock(&lock_a);
	spin_unlock(&lock_a);
	spin_unlock(&lock_b);
	return NULL;
}

static void *take_b_c(void *arg)
{
	set_name(arg);
	spin_lock(&lock_b);
	spin_lock(&lock_c);
	spin_unlock(&lock_c);
	spin_unlock(&lock_b);
	return NULL;
}

static void *take_c_a(void *arg)
{
	set_name(arg);
	spin_lock(&lock_c);
	spin_lock(&lock_a);
	spin_unlock(&lock_a);
	spin_unlock(&lock_c);
	return NULL;
}

static void *take_b_trylock_a(void *arg)
{
	set_name(arg);
	spin_lock(&lock_b);
	if (spin_trylock(&lock_a))
		spin_unlock(&lock_a);
	spin_unlock(&lock_b);
	return NULL;
}

static void case_abba(void)
{
	in_thread(take_a_b, "abba-first");
	in_thread(take_b_a, "abba-second");
}

static void case_abc_chain(void)
{
	in_thread(take_a_b, "chain-1");
	in_thread(take_b_c, "chain-2");
	in_thread(take_c_a, "chain-3");
}

static void case_trylock_reverse_ok(void)
{
	in_thread(take_a_b, "try-first");
	in_thread(take_b_trylock_a, "try-second");
}

static void case_lockdep_off_abba(void)
{
	lockdep_set_enabled(false);
	case_abba();
}

static void *bits_a_b(void *arg)
{
	set_name(arg);
	bit_spin_lock_class(3, &word_a, &class_bit_a);
	bit_spin_lock_class(3, &word_b, &class_bit_b);
	bit_spin_unlock_class(3, &word_b, &class_bit_b);
	bit_spin_unlock_class(3, &word_a, &class_bit_a);
	return NULL;
}

static void *bits_b_a(void *arg)
{
	set_name(arg);
	bit_spin_lock_class(3, &word_b, &class_bit_b);
	bit_spin_lock_class(3, &word_a, &class_bit_a);
	bit_spin_unlock_class(3, &word_a, &class_bit_a);
	bit_spin_unlock_class(3, &word_b, &class_bit_b);
	return NULL;
}

static void case_abba_bit(void)
{
	in_thread(bits_a_b, "bits-first");
	in_thread(bits_b_a, "bits-second");
}

/* The mapcount lock is innermost: taking a PTL under it is an inversion. */
static void *ptl_then_bit(void *arg)
{
	set_name(arg);
	spin_lock(&ptl_dst);
	bit_spin_lock_class(31, &word_a, &class_bit_a);
	bit_spin_unlock_class(31, &word_a, &class_bit_a);
	spin_unlock(&ptl_dst);
	return NULL;
}

static void *bit_then_ptl(void *arg)
{
	set_name(arg);
	bit_spin_lock_class(31, &word_a, &class_bit_a);
	spin_lock(&ptl_src);
	spin_unlock(&ptl_src);
	bit_spin_unlock_class(31, &word_a, &class_bit_a);
	return NULL;
}

static void case_abba_ptl_bit(void)
{
	init_ptls();
	in_thread(ptl_then_bit, "fault");
	in_thread(bit_then_ptl, "inverted");
}

static void case_assert_held(void)
{
	spin_lock(&lock_a);
	lockdep_assert_held(&lock_a);
	spin_unlock(&lock_a);
	lockdep_assert_held(&lock_a);
}

static void case_assert_held_bit(void)
{
	bit_spin_lock_class(31, &word_a, &class_bit_a);
	lockdep_assert_bit_held(31, &word_a, &class_bit_a);
	bit_spin_unlock_class(31, &word_a, &class_bit_a);
	lockdep_assert_bit_held(31, &word_a, &class_bit_a);
}

static void case_assert_held_rwsem_ok(void)
{
	down_read(&mmap_lock);
	lockdep_assert_held(&mmap_lock);
	up_read(&mmap_lock);
	down_write(&mmap_lock);
	lockdep_assert_held(&mmap_lock);
	up_write(&mmap_lock);
}

/* copy_pte_range(): dst PTL, then src PTL with the nesting annotation. */
static void case_ptl_nested_ok(void)
{
	init_ptls();
	spin_lock(&ptl_dst);
	spin_lock_nested(&ptl_src, SINGLE_DEPTH_NESTING);
	lockdep_assert_held(&ptl_src);
	spin_unlock(&ptl_src);
	spin_unlock(&ptl_dst);
}

static void case_ptl_nested_missing(void)
{
	init_ptls();
	spin_lock(&ptl_dst);
	spin_lock(&ptl_src);
}

static void case_self_deadlock(void)
{
	spin_lock(&lock_a);
	spin_lock(&lock_a);
}

static void case_rwsem_read_recursive(void)
{
	down_read(&mmap_lock);
	down_read(&mmap_lock);
}

static void case_rwsem_under_spin(void)
{
	init_ptls();
	spin_lock(&ptl_dst);
	down_read(&mmap_lock);
}

static void case_rwsem_under_bit(void)
{
	bit_spin_lock_class(31, &word_a, &class_bit_a);
	down_write(&mmap_lock);
}

static void case_rwsem_trylock_under_spin_ok(void)
{
	spin_lock(&lock_a);
	if (down_read_trylock(&mmap_lock))
		up_read(&mmap_lock);
	spin_unlock(&lock_a);
}

static void case_double_unlock(void)
{
	spin_lock(&lock_a);
	spin_unlock(&lock_a);
	spin_unlock(&lock_a);
}

static void case_double_unlock_nolockdep(void)
{
	lockdep_set_enabled(false);
	case_double_unlock();
}

static void case_double_unlock_bit(void)
{
	bit_spin_lock_class(31, &word_a, &class_bit_a);
	bit_spin_unlock_class(31, &word_a, &class_bit_a);
	bit_spin_unlock_class(31, &word_a, &class_bit_a);
}

static void case_double_up_read(void)
{
	down_read(&mmap_lock);
	up_read(&mmap_lock);
	up_read(&mmap_lock);
}

static void *unlock_a(void *arg)
{
	set_name(arg);
	spin_unlock(&lock_a);
	return NULL;
}

static void case_unlock_not_owner(void)
{
	spin_lock(&lock_a);
	in_thread(unlock_a, "not-owner");
}

static void *exit_holding(void *arg)
{
	set_name(arg);
	spin_lock(&lock_a);
	return NULL;
}

static void case_exit_holding(void)
{
	in_thread(exit_holding, "leaker");
}

static void case_return_holding(void)
{
	spin_lock(&lock_a);
	lockdep_sys_exit();
}

static void case_return_clean_ok(void)
{
	spin_lock(&lock_a);
	spin_unlock(&lock_a);
	lockdep_sys_exit();
}

static void case_downgrade_ok(void)
{
	down_write(&mmap_lock);
	downgrade_write(&mmap_lock);
	lockdep_assert_held(&mmap_lock);
	up_read(&mmap_lock);
}

static void case_downgrade_not_held(void)
{
	downgrade_write(&mmap_lock);
}

static void case_seqcount_read_in_write(void)
{
	spin_lock(&lock_a);
	write_seqcount_begin(&seq);
	read_seqcount_begin(&seq);
}

static void case_seqcount_writers_unserialized(void)
{
	raw_write_seqcount_begin(&seq);
	raw_write_seqcount_begin(&seq);
}

/* A reader inside its own write section waits for itself. */
static void case_atomic_seqcount_read_in_write(void)
{
	raw_write_atomic_seqcount_begin(&aseq[0], true, &class_aseq);
	raw_read_atomic_seqcount_begin(&aseq[0], &class_aseq);
}

/* Two write sections of one class nested: two folios' mapcounts at once. */
static void case_atomic_seqcount_nested(void)
{
	raw_write_atomic_seqcount_begin(&aseq[0], true, &class_aseq);
	raw_write_atomic_seqcount_begin(&aseq[1], true, &class_aseq);
}

/* A write section is innermost and disables preemption: nothing sleeps. */
static void case_atomic_seqcount_rwsem_inside(void)
{
	raw_write_atomic_seqcount_begin(&aseq[0], true, &class_aseq);
	down_read(&mmap_lock);
}

/* Under a spinlock, one exclusive then one shared section: legal. */
static void case_atomic_seqcount_ok(void)
{
	unsigned long start;
	bool excl;

	spin_lock(&lock_a);
	excl = raw_write_atomic_seqcount_begin(&aseq[0], true, &class_aseq);
	raw_write_atomic_seqcount_end(&aseq[0], excl, &class_aseq);
	excl = raw_write_atomic_seqcount_begin(&aseq[0], false, &class_aseq);
	raw_write_atomic_seqcount_end(&aseq[0], excl, &class_aseq);
	spin_unlock(&lock_a);
	start = raw_read_atomic_seqcount_begin(&aseq[0], &class_aseq);
	if (excl || start != 2 * ATOMIC_SEQCOUNT_SEQUENCE_STEP ||
	    raw_read_atomic_seqcount_retry(&aseq[0], start))
		ft_die(FT_EXIT_INVARIANT);
}

static void *hold_aseq_long(void *arg)
{
	set_name(arg);
	raw_write_atomic_seqcount_begin(&aseq[0], true, &class_aseq);
	ft_sleep_ns(10 * NSEC_PER_SEC);
	raw_write_atomic_seqcount_end(&aseq[0], true, &class_aseq);
	return NULL;
}

static void *hold_b_long(void *arg)
{
	set_name(arg);
	spin_lock(&lock_b);
	ft_sleep_ns(10 * NSEC_PER_SEC);
	spin_unlock(&lock_b);
	return NULL;
}

static void *hold_sem_long(void *arg)
{
	set_name(arg);
	down_write(&mmap_lock);
	ft_sleep_ns(10 * NSEC_PER_SEC);
	up_write(&mmap_lock);
	return NULL;
}

static void start_holder(void *(*fn)(void *), const char *name)
{
	pthread_t t;

	pthread_create(&t, NULL, fn, (void *)name);
	ft_sleep_ns(100 * NSEC_PER_MSEC);
}

static void case_spin_stall(void)
{
	lockdep_set_stall_timeout(300 * NSEC_PER_MSEC);
	start_holder(hold_b_long, "holder");
	spin_lock(&lock_b);
}

/* A shared writer waits for the exclusive one, which never ends. */
static void case_atomic_seqcount_stall(void)
{
	lockdep_set_stall_timeout(300 * NSEC_PER_MSEC);
	start_holder(hold_aseq_long, "holder");
	raw_write_atomic_seqcount_begin(&aseq[0], true, &class_aseq);
}

static void case_rwsem_stall(void)
{
	lockdep_set_stall_timeout(300 * NSEC_PER_MSEC);
	start_holder(hold_sem_long, "holder");
	down_read(&mmap_lock);
}

/* The watchdog's decision, as the torture driver makes it. */
static void case_hold_limit(void)
{
	start_holder(hold_b_long, "holder");
	ft_sleep_ns(400 * NSEC_PER_MSEC);
	if (lockdep_scan_hold_times(200 * NSEC_PER_MSEC, stderr)) {
		debug_show_all_locks(stderr);
		ft_die(FT_EXIT_STALL);
	}
}

static void case_hold_limit_ok(void)
{
	spin_lock(&lock_b);
	if (lockdep_scan_hold_times(10 * NSEC_PER_SEC, stderr))
		ft_die(FT_EXIT_STALL);
	spin_unlock(&lock_b);
}

static const struct {
	const char *name;
	void (*fn)(void);
} cases[] = {
	{ "abba", case_abba },
	{ "abc_chain", case_abc_chain },
	{ "trylock_reverse_ok", case_trylock_reverse_ok },
	{ "lockdep_off_abba", case_lockdep_off_abba },
	{ "abba_bit", case_abba_bit },
	{ "abba_ptl_bit", case_abba_ptl_bit },
	{ "assert_held", case_assert_held },
	{ "assert_held_bit", case_assert_held_bit },
	{ "assert_held_rwsem_ok", case_assert_held_rwsem_ok },
	{ "ptl_nested_ok", case_ptl_nested_ok },
	{ "ptl_nested_missing", case_ptl_nested_missing },
	{ "self_deadlock", case_self_deadlock },
	{ "rwsem_read_recursive", case_rwsem_read_recursive },
	{ "rwsem_under_spin", case_rwsem_under_spin },
	{ "rwsem_under_bit", case_rwsem_under_bit },
	{ "rwsem_trylock_under_spin_ok", case_rwsem_trylock_under_spin_ok },
	{ "double_unlock", case_double_unlock },
	{ "double_unlock_nolockdep", case_double_unlock_nolockdep },
	{ "double_unlock_bit", case_double_unlock_bit },
	{ "double_up_read", case_double_up_read },
	{ "unlock_not_owner", case_unlock_not_owner },
	{ "exit_holding", case_exit_holding },
	{ "return_holding", case_return_holding },
	{ "return_clean_ok", case_return_clean_ok },
	{ "downgrade_ok", case_downgrade_ok },
	{ "downgrade_not_held", case_downgrade_not_held },
	{ "seqcount_read_in_write", case_seqcount_read_in_write },
	{ "seqcount_writers_unserialized", case_seqcount_writers_unserialized },
	{ "atomic_seqcount_read_in_write", case_atomic_seqcount_read_in_write },
	{ "atomic_seqcount_nested", case_atomic_seqcount_nested },
	{ "atomic_seqcount_rwsem_inside", case_atomic_seqcount_rwsem_inside },
	{ "atomic_seqcount_ok", case_atomic_seqcount_ok },
	{ "atomic_seqcount_stall", case_atomic_seqcount_stall },
	{ "spin_stall", case_spin_stall },
	{ "rwsem_stall", case_rwsem_stall },
	{ "hold_limit", case_hold_limit },
	{ "hold_limit_ok", case_hold_limit_ok },
};

int main(int argc, char **argv)
{
	const char *name = ft_test_arg(argc, argv, "--case", NULL);

	init_locks();
	for (size_t i = 0; name && i < ARRAY_SIZE(cases); i++) {
		if (strcmp(name, cases[i].name))
			continue;
		cases[i].fn();
		printf("lockdep_cases: %s: no splat\n", name);
		return FT_EXIT_SUCCESS;
	}
	fprintf(stderr, "lockdep_cases: unknown --case '%s'; valid:", name ? name : "");
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		fprintf(stderr, " %s", cases[i].name);
	fprintf(stderr, "\n");
	return FT_EXIT_USAGE;
}
