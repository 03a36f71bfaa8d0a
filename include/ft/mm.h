/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Simulated address spaces: mm_struct, vm_area_struct and the mm id
 * allocator (rmap spec §1.2).  The mm operations that use them come with
 * the page tables and the fault/fork/zap paths.
 */
#ifndef FT_MM_H
#define FT_MM_H

#include "ft/folio.h"
#include "ft/lock.h"

/* mm->flags */
#define MMF_HAS_PINNED	0	/* some page of this mm was ever FOLL_PIN'ed */

struct ptdesc;

/* An upper-level page-table entry: the PTE table it points to, or none. */
typedef struct {
	struct ptdesc *table;
} pmd_t;

struct mm_struct {
	mm_id_t mm_id;
	unsigned long flags;		/* MMF_*, atomic bitops */
	seqcount_t write_protect_seq;	/* odd while fork write-protects */
	struct ft_pmem *pmem;		/* the memory its pages come from */
	/* Page tables (include/ft/pgtable.h): one upper-level entry per
	 * PMD_SIZE below task_size.  page_table_lock serializes populating
	 * them (pmd_install); each table has its own PTL. */
	spinlock_t page_table_lock;
	pmd_t *pgd;
	unsigned long task_size;
};

struct anon_vma;

struct vm_area_struct {
	struct mm_struct *vm_mm;
	unsigned long vm_start, vm_end;	/* [vm_start, vm_end) */
	unsigned long vm_flags;
	struct anon_vma *anon_vma;
};

static inline void mm_set_has_pinned_flag(struct mm_struct *mm)
{
	if (!test_bit(MMF_HAS_PINNED, &mm->flags))
		set_bit(MMF_HAS_PINNED, &mm->flags);
}

/*
 * The mm id space: the kernel's IDA over [MM_ID_MIN, MM_ID_MAX].  Hands out
 * the lowest free id, as ida_alloc_range() does, and never one in use.
 * @max can be lowered for tests that exhaust it.
 */
struct mm_id_space {
	spinlock_t lock;	/* protects everything below */
	mm_id_t max;
	mm_id_t next;		/* ids >= next were never handed out */
	unsigned long *in_use;	/* bitmap of [0, next) */
	size_t map_longs;
	mm_id_t *free;		/* min-heap of released ids below next */
	size_t nr_free, cap_free;
	unsigned long nr_in_use;
};

int mm_id_space_init(struct mm_id_space *ids, mm_id_t max);
void mm_id_space_destroy(struct mm_id_space *ids);
/* The kernel's mm_alloc_id()/mm_free_id(): 0 or -ENOSPC / -ENOMEM. */
int mm_alloc_id(struct mm_id_space *ids, struct mm_struct *mm);
void mm_free_id(struct mm_id_space *ids, struct mm_struct *mm);

#endif /* FT_MM_H */
