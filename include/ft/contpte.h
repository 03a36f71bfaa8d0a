/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The arm64 contiguous-PTE layer (arch/arm64/mm/contpte.c and the
 * contpte wrappers of arch/arm64/include/asm/pgtable.h, v6.9-v6.18):
 * the public PTE API that core mm calls, deciding where the CONT bit goes.
 * Upstream: the block geometry (CONT_PTE_SHIFT, asm/pgtable-hwdef.h), the
 * fold conditions (contpte_try_fold(), __contpte_try_fold()), the public
 * wrappers of asm/pgtable.h, the core routines (contpte_convert(),
 * contpte_try_unfold_partial()) and the lockless read
 * (contpte_ptep_get_lockless()).
 *
 * Rules kept from the kernel:
 *   - every public setter strips CONT from the value it is given; only this
 *     layer sets it (a CONT bit that leaked out of ptep_get() is never
 *     written back);
 *   - CONT changes on live entries go through contpte_convert():
 *     break-before-make, gathering hardware a/d from every entry;
 *   - folding is tried only by a single-PTE set of a block's last entry;
 *   - set_ptes(nr > 1) requires non-present targets and writes CONT
 *     directly where a segment covers a whole aligned block.
 * Every public operation requires the PTL of its table (asserted), except
 * ptep_get_lockless().  After each one, in checking builds, the blocks it
 * touched are checked for consistency (T4 in doc/invariants.md).
 */
#ifndef FT_CONTPTE_H
#define FT_CONTPTE_H

#include "ft/pgtable.h"

#define CONT_PTE_SHIFT		(4 + PAGE_SHIFT)
#define CONT_PTES		(1U << (CONT_PTE_SHIFT - PAGE_SHIFT))	/* 16 */
#define CONT_PTE_SIZE		(1UL << CONT_PTE_SHIFT)
#define CONT_PTE_MASK		(~(CONT_PTE_SIZE - 1))

static inline pte_t *contpte_align_down(pte_t *ptep)
{
	return (pte_t *)((unsigned long)ptep & ~(CONT_PTES * sizeof(pte_t) - 1));
}

static inline unsigned int contpte_index(pte_t *ptep)
{
	return (unsigned int)(ptep - contpte_align_down(ptep));
}

static inline unsigned long pte_cont_addr_end(unsigned long addr, unsigned long end)
{
	unsigned long boundary = (addr + CONT_PTE_SIZE) & CONT_PTE_MASK;

	return boundary - 1 < end - 1 ? boundary : end;
}

/* The rest of the block after @ptep if @pte is valid+CONT, else 1 (arm64's
 * pte_batch_hint()). */
static inline unsigned int pte_batch_hint(pte_t *ptep, pte_t pte)
{
	if (!pte_valid_cont(pte))
		return 1;
	return CONT_PTES - contpte_index(ptep);
}

pte_t contpte_ptep_get(pte_t *ptep, pte_t orig_pte);

/* ptep_get(): for a CONT entry, young/dirty ORed over the block. */
static inline pte_t ptep_get(pte_t *ptep)
{
	pte_t pte = __ptep_get(ptep);

	if (likely(!pte_valid_cont(pte)))
		return pte;
	return contpte_ptep_get(ptep, pte);
}

/* Without the PTL: an optimistic scan that retries on inconsistency
 * (contpte_ptep_get_lockless()). */
pte_t ptep_get_lockless(pte_t *ptep);
/* One pass of it: false (and @out the entry alone) if the block was being
 * changed.  For a walker that must not wait for the writer (gup.c). */
bool ptep_try_get_lockless(pte_t *ptep, pte_t *out);

void set_ptes(struct mm_struct *mm, unsigned long addr, pte_t *ptep, pte_t pte,
	      unsigned int nr);

static inline void set_pte_at(struct mm_struct *mm, unsigned long addr,
			      pte_t *ptep, pte_t pte)
{
	set_ptes(mm, addr, ptep, pte, 1);
}

pte_t ptep_get_and_clear(struct mm_struct *mm, unsigned long addr, pte_t *ptep);
void clear_full_ptes(struct mm_struct *mm, unsigned long addr, pte_t *ptep,
		     unsigned int nr, int full);
pte_t get_and_clear_full_ptes(struct mm_struct *mm, unsigned long addr,
			      pte_t *ptep, unsigned int nr, int full);
void wrprotect_ptes(struct mm_struct *mm, unsigned long addr, pte_t *ptep,
		    unsigned int nr);

static inline void ptep_set_wrprotect(struct mm_struct *mm, unsigned long addr,
				      pte_t *ptep)
{
	wrprotect_ptes(mm, addr, ptep, 1);
}

int ptep_test_and_clear_young(struct vm_area_struct *vma, unsigned long addr,
			      pte_t *ptep);
/* MADV_FREE: @nr entries old and clean, a CONT block whole (no unfold). */
void clear_young_dirty_ptes(struct vm_area_struct *vma, unsigned long addr,
			    pte_t *ptep, unsigned int nr);
int ptep_set_access_flags(struct vm_area_struct *vma, unsigned long addr,
			  pte_t *ptep, pte_t entry, int dirty);
/* mprotect's batch: get-and-clear (unfolding partial blocks), then set. */
pte_t modify_prot_start_ptes(struct vm_area_struct *vma, unsigned long addr,
			     pte_t *ptep, unsigned int nr);
void modify_prot_commit_ptes(struct vm_area_struct *vma, unsigned long addr,
			     pte_t *ptep, pte_t old_pte, pte_t pte,
			     unsigned int nr);
/* The generic one: get-and-clear (unfold), then flush the page. */
pte_t ptep_clear_flush(struct vm_area_struct *vma, unsigned long addr,
		       pte_t *ptep);

/*
 * The block-consistency oracle (T4, doc/invariants.md): if the block holding
 * @ptep has a CONT entry, all CONT_PTES entries must be valid, CONT, map
 * consecutive pfns aligned to the block, lie in one folio and differ in
 * nothing but AF and dirty.  Caller holds the PTL.  Reports a decoded dump
 * of the 16 entries (ft_report) and returns false otherwise.
 */
bool contpte_check_block(struct mm_struct *mm, pte_t *ptep);

/* Decode one entry, kernel-style, for dumps. */
void pte_describe(FILE *out, pte_t pte);

#endif /* FT_CONTPTE_H */
