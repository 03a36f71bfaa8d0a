/* SPDX-License-Identifier: GPL-2.0-only */
/* Test helpers for the mm layer: simulated processes and their one VMA. */
#ifndef FT_MM_TEST_H
#define FT_MM_TEST_H

#include "ft/mapcount.h"
#include "ft/mm.h"
#include "ft/pgtable.h"
#include "ft/report.h"
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
