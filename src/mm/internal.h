/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Private to src/mm (the kernel's mm/internal.h and friends): PTE
 * batching, the mmu_gather, the building blocks the operations share.
 */
#ifndef FT_MM_INTERNAL_H
#define FT_MM_INTERNAL_H

#include "ft/contpte.h"
#include "ft/mapcount.h"
#include "ft/mm.h"
#include "ft/report.h"
#include "ft/sched.h"
#include "ft/swap.h"
#include "ft/zoo.h"

/* ---- folio_pte_batch (mm/util.c and mm/internal.h) ---- */

#define FPB_RESPECT_DIRTY	BIT(0)
#define FPB_RESPECT_SOFT_DIRTY	BIT(1)
#define FPB_RESPECT_WRITE	BIT(2)
#define FPB_MERGE_WRITE		BIT(3)
#define FPB_MERGE_YOUNG_DIRTY	BIT(4)

/*
 * The number of consecutive present PTEs from @ptep that map consecutive
 * pages of @folio with equal bits (ignoring AF always, and dirty,
 * soft-dirty and write unless told to respect them).  @ptentp: the first
 * entry, updated with the merged bits.  Caller limits @max_nr to one VMA
 * and one page table and holds the PTL (or has the table stable).
 */
unsigned int folio_pte_batch_flags(struct folio *folio, pte_t *ptep,
				   pte_t *ptentp, unsigned int max_nr,
				   unsigned int flags);

static inline unsigned int folio_pte_batch(struct folio *folio, pte_t *ptep,
					   pte_t pte, unsigned int max_nr)
{
	return folio_pte_batch_flags(folio, ptep, &pte, max_nr, 0);
}

/* The page an entry maps, or NULL for a special one (the zero page). */
struct page *vm_normal_page(struct vm_area_struct *vma, unsigned long addr,
			    pte_t pte);

static inline struct folio *vm_normal_folio(struct vm_area_struct *vma,
					    unsigned long addr, pte_t pte)
{
	struct page *page = vm_normal_page(vma, addr, pte);

	return page ? page_folio(page) : NULL;
}

/* The PTE table for @addr exists (allocating it), or -ENOMEM. */
static inline int pte_alloc(struct mm_struct *mm, pmd_t *pmd, unsigned long addr)
{
	return pmdp_get_lockless(pmd) ? 0 : __pte_alloc(mm, pmd, addr);
}

pgprot_t vm_get_page_prot(unsigned long vm_flags);

/* ---- mmu_gather (mm/mmu_gather.c, include/asm-generic/tlb.h) -------------- */

struct mmu_gather_entry {
	struct page *page;
	unsigned int nr;
	bool delay_rmap;
};

struct mmu_gather {
	struct mm_struct *mm;
	bool fullmm;
	bool delayed_rmap;
	unsigned long start, end;	/* pending TLB range; start > end: none */
	unsigned int nr, capacity;
	struct mmu_gather_entry *entries;	/* capacity of them */
	struct mmu_gather_entry local[8];	/* if allocating fails */
};

void tlb_gather_mmu(struct mmu_gather *tlb, struct mm_struct *mm);
void tlb_gather_mmu_fullmm(struct mmu_gather *tlb, struct mm_struct *mm);
void tlb_finish_mmu(struct mmu_gather *tlb);
/* Queue @nr pages' references for freeing after the flush; true: full. */
bool __tlb_remove_folio_pages(struct mmu_gather *tlb, struct page *page,
			      unsigned int nr, bool delay_rmap);
void tlb_remove_tlb_entries(struct mmu_gather *tlb, pte_t *ptep,
			    unsigned int nr, unsigned long addr);
void tlb_flush_mmu_tlbonly(struct mmu_gather *tlb);
void tlb_flush_rmaps(struct mmu_gather *tlb, struct vm_area_struct *vma);
void tlb_flush_mmu(struct mmu_gather *tlb);

/*
 * mm->tlb_flush_pending (include/linux/mm_types.h): gathers in progress.
 * Relaxed, as the kernel's: a gather's increment comes before its first
 * PTE change, which is published by the PTL's release, so a second gather
 * that found the change under that PTL also finds the count.
 */
static inline void inc_tlb_flush_pending(struct mm_struct *mm)
{
	atomic_inc(&mm->tlb_flush_pending);
}

static inline void dec_tlb_flush_pending(struct mm_struct *mm)
{
	atomic_dec(&mm->tlb_flush_pending);
}

static inline bool mm_tlb_flush_nested(struct mm_struct *mm)
{
	return atomic_read(&mm->tlb_flush_pending) > 1;
}

static inline bool tlb_delay_rmap(struct mmu_gather *tlb)
{
	if (tlb->mm->world->no_gather)
		return false;
	tlb->delayed_rmap = true;
	return true;
}

/* ---- The operations' pieces ------------------------------------------------------ */

/* zap (mm/memory.c) */
void unmap_page_range(struct mmu_gather *tlb, struct vm_area_struct *vma,
		      unsigned long addr, unsigned long end);
void zap_page_range_single(struct vm_area_struct *vma, unsigned long addr,
			   unsigned long size);

/* fork (mm/memory.c) */
int copy_page_range(struct vm_area_struct *dst_vma, struct vm_area_struct *src_vma);

/* faults (mm/memory.c) */
#define FAULT_FLAG_WRITE	0x1
#define FAULT_FLAG_UNSHARE	0x2
#define FAULT_FLAG_VMA_LOCK	0x4
#define FAULT_FLAG_SPECULATIVE	0x8

#define VM_FAULT_OOM		0x1
#define VM_FAULT_SIGSEGV	0x2
#define VM_FAULT_RETRY		0x4

typedef unsigned int vm_fault_t;

/* @seq: the VMA's vm_seq when an SPF fault looked it up. */
vm_fault_t handle_mm_fault(struct vm_area_struct *vma, unsigned long address,
			   unsigned int flags, unsigned int seq);

/* mprotect (mm/mprotect.c) */
#define MM_CP_TRY_CHANGE_WRITABLE	0x1
long change_protection(struct mmu_gather *tlb, struct vm_area_struct *vma,
		       unsigned long start, unsigned long end,
		       unsigned long cp_flags);

/* VMAs (mm/mmap.c): under the mmap_lock for write */
int split_vma(struct vm_area_struct *vma, unsigned long addr);
/* Split at @start and @end; the VMAs inside, in order: how many, or -errno. */
int vma_split_range(struct mm_struct *mm, unsigned long start, unsigned long end,
		    struct vm_area_struct **out);
void vma_end_write_all(struct mm_struct *mm);
/* A free VMA slot, write-locked; NULL if all MAX_VMAS are in use. */
struct vm_area_struct *vma_alloc(struct mm_struct *mm);
/* Range, page offset and flags of a VMA not yet linked to an anon_vma. */
void vma_set_range(struct vm_area_struct *vma, unsigned long start,
		   unsigned long end, unsigned long pgoff, unsigned long flags);
void vma_mark_attached(struct vm_area_struct *vma);
void vma_detach(struct vm_area_struct *vma);
/*
 * do_vmi_munmap(): split, detach and zap [@start, @end) under the mmap_lock
 * held for write.  @unlock: downgrade and zap under the read lock, then drop
 * it (munmap(2)); else zap under the write lock and keep it (mremap).
 * 0 or -ENOMEM.
 */
int do_vmi_munmap(struct mm_struct *mm, unsigned long start, unsigned long end,
		  bool unlock);

/* anon_vma (mm/rmap.c) */
int anon_vma_fork(struct vm_area_struct *vma, struct vm_area_struct *pvma);
int anon_vma_clone(struct vm_area_struct *dst, struct vm_area_struct *src);
void unlink_anon_vmas(struct vm_area_struct *vma);
void anon_vma_lock_write(struct anon_vma *anon_vma);
void anon_vma_unlock_write(struct anon_vma *anon_vma);
void ft_anon_vma_pool_destroy(struct ft_world *w);

/*
 * rmap_walk_anon(): call @rmap_one for every entry that maps a page of
 * @folio (present; also migration entries if @migration) in every VMA
 * linked to @anon_vma, under that table's PTL.  @rmap_one returns false
 * to stop the walk.
 */
struct rmap_walk_control {
	bool migration;
	/* Set to 1 before each call; rmap_one raises it to the entries it
	 * handled as one batch (page_vma_mapped_walk's nr_pages). */
	unsigned int nr_pages;
	bool (*rmap_one)(struct folio *folio, struct vm_area_struct *vma,
			 unsigned long addr, pte_t *ptep, void *arg);
	/* Optional: after each VMA, its PTLs dropped, the anon_vma lock
	 * still held for read (a sleeping lock: the walker may be
	 * preempted here). */
	void (*vma_done)(struct folio *folio, struct vm_area_struct *vma, void *arg);
	void *arg;
};

void rmap_walk_anon(struct folio *folio, struct anon_vma *anon_vma,
		    struct rmap_walk_control *rwc);

/*
 * try_to_unmap() (mm/rmap.c) for reclaim, the folio locked: every mapping
 * of @folio removed, a lazyfree one discarded (or, written again since
 * MADV_FREE, made swap-backed again).  The caller checks folio_mapped().
 */
void try_to_unmap(struct folio *folio);
/* folio_referenced(): clear every mapping's young bit; how many were. */
int folio_referenced(struct folio *folio);


#endif /* FT_MM_INTERNAL_H */
