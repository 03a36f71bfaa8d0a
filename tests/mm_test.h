/* SPDX-License-Identifier: GPL-2.0-only */
/* Test helpers for the mm layer: a simulated process with one big VMA. */
#ifndef FT_MM_TEST_H
#define FT_MM_TEST_H

#include "ft/mapcount.h"
#include "ft/mm.h"
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

#endif /* FT_MM_TEST_H */
