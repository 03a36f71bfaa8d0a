/* SPDX-License-Identifier: GPL-2.0-only */
/* Test helpers for the mm layer: simulated processes and their one VMA. */
#ifndef FT_MM_TEST_H
#define FT_MM_TEST_H

#include <pthread.h>

#include "ft/mapcount.h"
#include "ft/mm.h"
#include "ft/pgtable.h"
#include "ft/report.h"
#include "ft/sched.h"
#include "ft_test.h"

struct test_mm {
	struct mm_struct mm;
	struct vm_area_struct vma;
};

static inline int test_mm_init(struct test_mm *t, struct mm_id_space *ids)
{
	memset(t, 0, sizeof(*t));
	seqcount_init(&t->mm.write_protect_seq);
	t->vma = (struct vm_area_struct){
		.vm_mm = &t->mm, .vm_start = 0, .vm_end = 1UL << 40,
	};
	return mm_alloc_id(ids, &t->mm);
}

/*
 * The world of the race tests: owner_slots, upstream locking, order-0
 * faults unless the test says otherwise.  Exits the test if memory runs out.
 */
static inline void test_world_init(struct ft_pmem *pmem, struct ft_world *w,
				   unsigned long nr_pfns, const char *test)
{
	if (ft_pmem_init(pmem, nr_pfns, ft_mapcount_model_find("owner_slots"), false) ||
	    ft_world_init(w, pmem, ft_locking_mode_find("upstream"))) {
		fprintf(stderr, "%s: out of memory setting up the world\n", test);
		exit(FT_EXIT_INVARIANT);
	}
	w->anon_orders = BIT(0);
}

/* The last result of a race test, then the world goes. */
static inline void test_world_done(struct ft_ktap *k, struct ft_pmem *pmem,
				   struct ft_world *w)
{
	ft_ktap_result(k, ft_report_failures() == 0 && ft_pmem_nr_used_pages(pmem) == 1,
		       "no oracle fired, only the zero page is left");
	ft_world_destroy(w);
	ft_pmem_destroy(pmem);
}

/* One of the two threads of test_race(). */
struct test_racer {
	int id;
	struct ft_random_state rs;	/* stream (seed, @stream, id) */
	void *arg;
	void (*fn)(struct test_racer *r);
	pthread_t pthread;
};

static inline void *test_racer_main(void *p)
{
	struct test_racer *r = p;

	ft_serial_enter(r->id);
	r->fn(r);
	ft_serial_exit();
	return NULL;
}

/*
 * Threads 0 and 1 run @fn on @arg, interleaved by the serial scheduler
 * (PCT, depth 2, @pct_steps) with scheduler seed @seed: one schedule.
 */
static inline void test_race(u64 seed, unsigned int pct_steps, u64 stream,
			     void (*fn)(struct test_racer *r), void *arg)
{
	struct ft_serial_params sp = {
		.nr_threads = 2, .strategy = FT_SCHED_PCT, .seed = seed,
		.pct_depth = 2, .pct_steps = pct_steps,
	};
	struct test_racer r[2];

	if (ft_serial_init(&sp))
		abort();
	for (int i = 0; i < 2; i++) {
		r[i] = (struct test_racer){ .id = i, .arg = arg, .fn = fn };
		ft_random_init(&r[i].rs, seed, stream, (u64)i, 0);
		pthread_create(&r[i].pthread, NULL, test_racer_main, &r[i]);
	}
	for (int i = 0; i < 2; i++)
		pthread_join(r[i].pthread, NULL);
	ft_serial_destroy();
}

/* The page-table address at which a folio's page @idx is mapped. */
static inline unsigned long test_addr(struct folio *folio, unsigned long idx)
{
	return (folio_pfn(folio) + idx) << PAGE_SHIFT;
}

/*
 * The processes of the mm tests: one read-write VMA of TEST_LEN at
 * TEST_VA; page @i of it is at test_va(i).
 */
#define TEST_TASK_SIZE	(64 * PMD_SIZE)
#define TEST_VA		(8 * PMD_SIZE)		/* block- and PMD-aligned */
#define TEST_LEN	(2 * PMD_SIZE)

static inline struct mm_struct *test_new_mm(struct ft_world *w)
{
	struct mm_struct *mm = mm_alloc(w, TEST_TASK_SIZE);

	if (!mm || ft_mmap(mm, TEST_VA, TEST_LEN, VM_READ | VM_WRITE))
		abort();
	return mm;
}

static inline unsigned long test_va(unsigned long i)
{
	return TEST_VA + i * PAGE_SIZE;
}

/* The entry of page @i, read as the hardware would (no contpte gather). */
static inline pte_t test_pte(struct mm_struct *mm, unsigned long i)
{
	struct ptdesc *pt = pmdp_get_lockless(pmd_off(mm, test_va(i)));

	return pt ? __ptep_get(&pt->ptes[pte_index(test_va(i))]) : __pte(0);
}

/* A user write of @v to page @i, faulting as needed: false if it failed. */
static inline bool test_put(struct mm_struct *mm, unsigned long i, unsigned long v,
			    struct ft_random_state *rs)
{
	return ft_user_access(mm, test_va(i), true, &v, rs) == FT_FAULT_OK;
}

/* A user read of page @i (~0 if it failed). */
static inline unsigned long test_get(struct mm_struct *mm, unsigned long i,
				     struct ft_random_state *rs)
{
	unsigned long v = ~0UL;

	ft_user_access(mm, test_va(i), false, &v, rs);
	return v;
}

#endif /* FT_MM_TEST_H */
