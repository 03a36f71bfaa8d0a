// SPDX-License-Identifier: GPL-2.0-only
/*
 * The arm64 contpte layer (arch/arm64/mm/contpte.c, v6.9-v6.18, and the
 * contpte wrappers of asm/pgtable.h).
 *
 * Why it is safe to fold and unfold under the PTL alone: a block is only
 * ever repainted by contpte_convert(), which first takes every entry away
 * with an atomic exchange (so no hardware a/d update is lost and the
 * hardware faults instead of using a half-painted block), invalidates the
 * TLB for the block, and only then writes all entries again.  Lockless
 * readers either see invalid entries and retry, or validate the whole
 * block (ptep_get_lockless).  A CONT bit from ptep_get() never reaches a
 * setter: set_ptes() strips it and recomputes where it belongs.
 */
#include "ft/contpte.h"
#include "ft/report.h"
#include "ft/sched.h"
#include "ft/zoo.h"

/* Only user mms are managed (never init_mm): all of the model's are. */
static bool mm_is_user(struct mm_struct *mm)
{
	(void)mm;
	return true;
}

/* A broken rule about one entry: report it with the entry decoded. */
static void pte_bug(pte_t *ptep, const char *what)
{
	if (!ft_report_begin("pte"))
		return;
	ft_report_msg("BUG: %s\n", what);
	fprintf(stderr, "  entry: ");
	pte_describe(stderr, __ptep_get(ptep));
	fprintf(stderr, "\n");
	ft_report_end();
}

static void contpte_check_range(struct mm_struct *mm, pte_t *ptep,
				unsigned int nr)
{
	pte_t *end = ptep + nr;

	if (!ft_debug_vm(mm->pmem))
		return;
	for (ptep = contpte_align_down(ptep); ptep < end; ptep += CONT_PTES)
		contpte_check_block(mm, ptep);
}

/* ---- Core routines (contpte_convert(), contpte_try_fold()/unfold()) --------- */

/*
 * Repaint the whole block holding @ptep from @pte (CONT or not), carrying
 * the young and dirty state of every entry over to all of them.
 */
static void contpte_convert(struct mm_struct *mm, unsigned long addr,
			    pte_t *ptep, pte_t pte)
{
	unsigned long start_addr = addr & CONT_PTE_MASK;
	pte_t *start_ptep = contpte_align_down(ptep);

	pte = pfn_pte(pte_pfn(pte) & ~(unsigned long)(CONT_PTES - 1), pte_pgprot(pte));
	for (unsigned int i = 0; i < CONT_PTES; i++) {
		pte_t ptent;

		/* Break: take the entry away; collect what the hardware set. */
		if (ft_injected(FT_INJ_CONVERT_DROPS_AD))
			ptent = __ptep_get(start_ptep + i);	/* Z18 */
		else
			ptent = __ptep_get_and_clear(start_ptep + i);
		if (pte_dirty(ptent))
			pte = pte_mkdirty(pte);
		if (pte_young(ptent))
			pte = pte_mkyoung(pte);
	}
	/* Hardware keeps going unless the entries are gone: a dirty bit it
	 * sets now is lost unless the block was dirty already. */
	ft_irq_window_exposed(FT_WIN_CONVERT, mm, start_addr, CONT_PTE_SIZE, NULL,
			      pte_may_get_hw_dirty(pte));
	flush_tlb_range(mm, start_addr, start_addr + CONT_PTE_SIZE);
	/* Make: every entry again, with the gathered a/d. */
	__set_ptes(start_ptep, pte, CONT_PTES);
	count_vm_event(mm->pmem, CONTPTE_CONVERT);
}

static void contpte_try_unfold(struct mm_struct *mm, unsigned long addr,
			       pte_t *ptep, pte_t pte, enum vm_event_item why)
{
	if (!pte_valid_cont(pte) || !mm_is_user(mm))
		return;
	contpte_convert(mm, addr, ptep, pte_mknoncont(pte));
	count_vm_event(mm->pmem, why);
	/* Fork's write-protect: maybe of the block it broke off inside. */
	if (why == CONTPTE_UNFOLD_WRPROTECT || why == CONTPTE_UNFOLD_WRPROTECT_PARTIAL)
		ft_fork_count_resume_unfold(addr);
}

/* Unfold the first and last block of a range that covers them only in part. */
static void contpte_try_unfold_partial(struct mm_struct *mm, unsigned long addr,
				       pte_t *ptep, unsigned int nr,
				       enum vm_event_item why)
{
	if (ptep != contpte_align_down(ptep) || nr < CONT_PTES)
		contpte_try_unfold(mm, addr, ptep, __ptep_get(ptep), why);
	if (ptep + nr != contpte_align_down(ptep + nr)) {
		unsigned long last_addr = addr + (nr - 1) * PAGE_SIZE;
		pte_t *last_ptep = ptep + nr - 1;

		contpte_try_unfold(mm, last_addr, last_ptep, __ptep_get(last_ptep), why);
	}
}

/* The five fold conditions of arm64's contpte_try_fold() and
 * __contpte_try_fold(), tried at a block's last entry. */
static void contpte_try_fold(struct mm_struct *mm, unsigned long addr,
			     pte_t *ptep, pte_t pte)
{
	unsigned long pfn = pte_pfn(pte), first_pfn = pfn - (CONT_PTES - 1);
	struct folio *folio;
	pte_t expect, *p;

	if (((addr >> PAGE_SHIFT) & (CONT_PTES - 1)) != CONT_PTES - 1 ||
	    (pfn & (CONT_PTES - 1)) != CONT_PTES - 1)
		return;
	if (!pte_valid(pte) || pte_cont(pte) || pte_special(pte) || !mm_is_user(mm))
		return;
	folio = page_folio(pfn_to_page(mm->pmem, pfn));
	if (!folio || folio_pfn(folio) > first_pfn ||
	    folio_pfn(folio) + folio_nr_pages(folio) <= pfn)
		return;
	expect = pfn_pte(first_pfn, pte_pgprot(pte_mkold(pte_mkclean(pte))));
	p = contpte_align_down(ptep);
	for (unsigned int i = 0; i < CONT_PTES; i++, p++) {
		if (!pte_same(pte_mkold(pte_mkclean(__ptep_get(p))), expect))
			return;
		expect = pte_advance_pfn(expect, 1);
	}
	contpte_convert(mm, addr, ptep, pte_mkcont(pte));
	count_vm_event(mm->pmem, CONTPTE_FOLD);
}

/* ---- Reads ------------------------------------------------------------------------ */

pte_t contpte_ptep_get(pte_t *ptep, pte_t orig_pte)
{
	pte_t *p = contpte_align_down(ptep);

	/* The hardware may have set a/d on any entry of the block. */
	for (unsigned int i = 0; i < CONT_PTES; i++) {
		pte_t pte = __ptep_get(p + i);

		if (pte_dirty(pte))
			orig_pte = pte_mkdirty(orig_pte);
		if (pte_young(pte))
			orig_pte = pte_mkyoung(orig_pte);
	}
	return orig_pte;
}

bool ptep_try_get_lockless(pte_t *orig_ptep, pte_t *out)
{
	pte_t orig_pte = __ptep_get(orig_ptep), *ptep;
	unsigned long pfn;
	pgprot_t prot;

	*out = orig_pte;
	if (!pte_valid_cont(orig_pte))
		return true;
	prot = pte_pgprot(pte_mkold(pte_mkclean(orig_pte)));
	ptep = contpte_align_down(orig_ptep);
	pfn = pte_pfn(orig_pte) - contpte_index(orig_ptep);
	for (unsigned int i = 0; i < CONT_PTES; i++, ptep++, pfn++) {
		pte_t pte;

		/* An interrupt (the fault path), or a slow CPU (GUP-fast).
		 * A rewrite of the block now loses a dirty bit to this read
		 * only if the half read so far is writable and clean. */
		if (i == CONT_PTES / 2)
			ft_irq_window_exposed(FT_WIN_LOCKLESS_READ, ptdesc_of(ptep)->mm,
					      ptep_addr(ptep - i), CONT_PTE_SIZE, NULL,
					      pte_may_get_hw_dirty(orig_pte));
		pte = __ptep_get(ptep);
		/* Someone is changing the block. */
		if (ft_injected(FT_INJ_LOCKLESS_NO_RETRY))
			;	/* Z19: trust whatever the block holds now */
		else if (!pte_valid_cont(pte) || pte_pfn(pte) != pfn ||
		    pgprot_val(pte_pgprot(pte_mkold(pte_mkclean(pte)))) !=
		    pgprot_val(prot))
			return false;
		if (pte_dirty(pte))
			orig_pte = pte_mkdirty(orig_pte);
		if (pte_young(pte))
			orig_pte = pte_mkyoung(orig_pte);
	}
	*out = orig_pte;
	return true;
}

pte_t ptep_get_lockless(pte_t *orig_ptep)
{
	pte_t pte;

	/* A torn block: start over once the writer has moved on. */
	while (!ptep_try_get_lockless(orig_ptep, &pte))
		ft_serial_yield();
	return pte;
}

/* ---- Sets -------------------------------------------------------------------------- */

/* contpte_set_ptes(): non-present targets; CONT wherever a whole block fits. */
static void contpte_set_ptes(struct mm_struct *mm, unsigned long addr,
			     pte_t *ptep, pte_t pte, unsigned int nr)
{
	unsigned long end = addr + nr * PAGE_SIZE, pfn = pte_pfn(pte), next;
	pgprot_t prot = pte_pgprot(pte);

	for (unsigned int i = 0; i < nr; i++)
		if (unlikely(pte_present(__ptep_get(ptep + i))))
			pte_bug(ptep + i, "set_ptes(nr > 1) over a present entry (Z17)");
	do {
		unsigned int seg;

		next = pte_cont_addr_end(addr, end);
		seg = (unsigned int)((next - addr) >> PAGE_SHIFT);
		pte = pfn_pte(pfn, prot);
		if (ft_injected(FT_INJ_CONT_COPIED_TO_CHILD))
			;	/* Z15: the template's CONT bit, whatever it is */
		else if (((addr | next | (pfn << PAGE_SHIFT)) & ~CONT_PTE_MASK) == 0)
			pte = pte_mkcont(pte);
		else
			pte = pte_mknoncont(pte);
		__set_ptes(ptep, pte, seg);
		addr = next;
		ptep += seg;
		pfn += seg;
	} while (addr != end);
}

/**
 * set_ptes - map @nr consecutive pages of one folio (arm64's set_ptes())
 * @mm: the address space
 * @addr: the address of the first entry
 * @ptep: the first entry
 * @pte: the value for the first entry; the others get the next pfns
 * @nr: the number of entries
 *
 * Caller holds the PTL.  For @nr > 1 the targets must not be present.
 */
void set_ptes(struct mm_struct *mm, unsigned long addr, pte_t *ptep, pte_t pte,
	      unsigned int nr)
{
	assert_ptl_held(ptep);
	/* A CONT bit may have leaked out of ptep_get(): never write it back. */
	if (!ft_injected(FT_INJ_CONT_COPIED_TO_CHILD))
		pte = pte_mknoncont(pte);
	if (likely(nr == 1)) {
		contpte_try_unfold(mm, addr, ptep, __ptep_get(ptep),
				   CONTPTE_UNFOLD_SET_PTE);
		__set_pte(ptep, pte);
		contpte_try_fold(mm, addr, ptep, pte);
	} else {
		contpte_set_ptes(mm, addr, ptep, pte, nr);
	}
	contpte_check_range(mm, ptep, nr);
}

/* ---- Clears -------------------------------------------------------------------------- */

pte_t ptep_get_and_clear(struct mm_struct *mm, unsigned long addr, pte_t *ptep)
{
	pte_t pte;

	assert_ptl_held(ptep);
	contpte_try_unfold(mm, addr, ptep, __ptep_get(ptep), CONTPTE_UNFOLD_CLEAR);
	pte = __ptep_get_and_clear(ptep);
	contpte_check_range(mm, ptep, 1);
	return pte;
}

/*
 * Whole blocks are cleared in place, entry by entry, without unfolding:
 * the PTL is held and the pages are not freed before the TLB flush
 * (contpte_clear_full_ptes()).  Only a block covered in part is unfolded
 * first.
 */
void clear_full_ptes(struct mm_struct *mm, unsigned long addr, pte_t *ptep,
		     unsigned int nr, int full)
{
	(void)full;
	assert_ptl_held(ptep);
	if (likely(nr == 1))
		contpte_try_unfold(mm, addr, ptep, __ptep_get(ptep),
				   CONTPTE_UNFOLD_CLEAR);
	else
		contpte_try_unfold_partial(mm, addr, ptep, nr,
					   CONTPTE_UNFOLD_CLEAR_PARTIAL);
	__clear_full_ptes(ptep, nr);
	contpte_check_range(mm, ptep, nr);
}

pte_t get_and_clear_full_ptes(struct mm_struct *mm, unsigned long addr,
			      pte_t *ptep, unsigned int nr, int full)
{
	pte_t pte;

	(void)full;
	assert_ptl_held(ptep);
	if (likely(nr == 1))
		contpte_try_unfold(mm, addr, ptep, __ptep_get(ptep),
				   CONTPTE_UNFOLD_CLEAR);
	else
		contpte_try_unfold_partial(mm, addr, ptep, nr,
					   CONTPTE_UNFOLD_CLEAR_PARTIAL);
	pte = __get_and_clear_full_ptes(ptep, nr);
	contpte_check_range(mm, ptep, nr);
	return pte;
}

/* ---- Write-protect ---------------------------------------------------------------------- */

/*
 * A whole block is write-protected in place and stays folded: until the
 * caller's TLB flush the pages may or may not be read-only yet, after it
 * they are.  A block covered in part must be unfolded first, or it would
 * stay misprogrammed (mixed permissions under CONT) after the flush.
 */
void wrprotect_ptes(struct mm_struct *mm, unsigned long addr, pte_t *ptep,
		    unsigned int nr)
{
	assert_ptl_held(ptep);
	if (likely(nr == 1))
		contpte_try_unfold(mm, addr, ptep, __ptep_get(ptep),
				   CONTPTE_UNFOLD_WRPROTECT);
	else if (!ft_injected(FT_INJ_WRPROTECT_PARTIAL_NO_UNFOLD))	/* Z16 */
		contpte_try_unfold_partial(mm, addr, ptep, nr,
					   CONTPTE_UNFOLD_WRPROTECT_PARTIAL);
	__wrprotect_ptes(ptep, nr);
	contpte_check_range(mm, ptep, nr);
}

/* ---- Access flags ------------------------------------------------------------------------ */

int ptep_test_and_clear_young(struct vm_area_struct *vma, unsigned long addr,
			      pte_t *ptep)
{
	pte_t *p;
	int young = 0;

	(void)vma;
	(void)addr;
	assert_ptl_held(ptep);
	if (likely(!pte_valid_cont(__ptep_get(ptep))))
		return __ptep_test_and_clear_young(ptep);
	/* The block's young is the OR of its entries: clear them all. */
	p = contpte_align_down(ptep);
	for (unsigned int i = 0; i < CONT_PTES; i++)
		young |= __ptep_test_and_clear_young(p + i);
	return young;
}

/*
 * contpte_clear_young_dirty_ptes(): a/d belong to the whole block, so the
 * range grows to whole blocks (Z5 was this expansion done in the wrong
 * units).  Callers pass whole folios, so the blocks stay inside them.
 */
void clear_young_dirty_ptes(struct vm_area_struct *vma, unsigned long addr,
			    pte_t *ptep, unsigned int nr)
{
	pte_t *start = ptep, *end = ptep + nr;

	(void)vma;
	(void)addr;
	assert_ptl_held(ptep);
	if (pte_valid_cont(__ptep_get(start)))
		start = contpte_align_down(start);
	if (pte_valid_cont(__ptep_get(end - 1)))
		end = contpte_align_down(end - 1) + CONT_PTES;
	for (pte_t *p = start; p < end; p++)
		__clear_young_dirty_pte(p);
}

/* Would applying @entry change any entry of the block?  (Z6's fix: per
 * descriptor, not against the gathered view.) */
static bool contpte_access_flags_noop(pte_t *ptep, pte_t entry)
{
	pte_t *p = contpte_align_down(ptep);

	for (unsigned int i = 0; i < CONT_PTES; i++) {
		pte_t cur = __ptep_get(p + i);

		if (!pte_same(pte_apply_access_flags(cur, entry), cur))
			return false;
	}
	return true;
}

static int contpte_ptep_set_access_flags(struct vm_area_struct *vma,
					 unsigned long addr, pte_t *ptep,
					 pte_t entry, int dirty)
{
	struct mm_struct *mm = vma->vm_mm;
	pte_t orig_pte = __ptep_get(ptep);
	unsigned long start;
	pte_t *p;

	if (contpte_access_flags_noop(ptep, entry))
		return 0;
	/* A permission change cannot be painted over a folded block. */
	if (pte_write(orig_pte) != pte_write(entry)) {
		contpte_try_unfold(mm, addr, ptep, orig_pte,
				   CONTPTE_UNFOLD_ACCESS_FLAGS);
		return __ptep_set_access_flags(ptep, entry);
	}
	p = contpte_align_down(ptep);
	start = addr & CONT_PTE_MASK;
	for (unsigned int i = 0; i < CONT_PTES; i++)
		__ptep_set_access_flags(p + i, entry);
	if (dirty)
		flush_tlb_range(mm, start, start + CONT_PTE_SIZE);
	return 1;
}

/**
 * ptep_set_access_flags - a fault's a/d and write update of one entry
 * @vma: the VMA
 * @addr: the address of the entry
 * @ptep: the entry
 * @entry: the bits wanted (AF, dirty, write)
 * @dirty: whether the access was a write
 *
 * Caller holds the PTL.  Returns 1 if anything changed.
 */
int ptep_set_access_flags(struct vm_area_struct *vma, unsigned long addr,
			  pte_t *ptep, pte_t entry, int dirty)
{
	int ret;

	assert_ptl_held(ptep);
	entry = pte_mknoncont(entry);
	if (likely(!pte_valid_cont(__ptep_get(ptep))))
		ret = __ptep_set_access_flags(ptep, entry);
	else
		ret = contpte_ptep_set_access_flags(vma, addr, ptep, entry, dirty);
	contpte_check_range(vma->vm_mm, ptep, 1);
	return ret;
}

/* ---- mprotect and COW helpers ------------------------------------------------------------- */

pte_t modify_prot_start_ptes(struct vm_area_struct *vma, unsigned long addr,
			     pte_t *ptep, unsigned int nr)
{
	struct mm_struct *mm = vma->vm_mm;
	pte_t pte;

	assert_ptl_held(ptep);
	contpte_try_unfold_partial(mm, addr, ptep, nr, CONTPTE_UNFOLD_MPROTECT_PARTIAL);
	pte = __get_and_clear_full_ptes(ptep, nr);
	contpte_check_range(mm, ptep, nr);
	return pte;
}

void modify_prot_commit_ptes(struct vm_area_struct *vma, unsigned long addr,
			     pte_t *ptep, pte_t old_pte, pte_t pte,
			     unsigned int nr)
{
	(void)old_pte;
	set_ptes(vma->vm_mm, addr, ptep, pte, nr);
}

pte_t ptep_clear_flush(struct vm_area_struct *vma, unsigned long addr,
		       pte_t *ptep)
{
	pte_t pte = ptep_get_and_clear(vma->vm_mm, addr, ptep);

	flush_tlb_range(vma->vm_mm, addr, addr + PAGE_SIZE);
	return pte;
}

/* ---- The block oracle ------------------------------------------------------------------- */

void pte_describe(FILE *out, pte_t pte)
{
	if (pte_none(pte)) {
		fprintf(out, "none");
		return;
	}
	fprintf(out, "%#018llx pfn:%#lx %s%s%s%s%s%s%s%s", (unsigned long long)pte_val(pte),
		pte_pfn(pte), pte_valid(pte) ? "valid" : "INVALID",
		pte_cont(pte) ? " CONT" : "", pte_write(pte) ? " write" : "",
		pte_rdonly(pte) ? " rdonly" : "", pte_young(pte) ? " young" : "",
		pte_sw_dirty(pte) ? " swdirty" : "", pte_hw_dirty(pte) ? " hwdirty" : "",
		pte_special(pte) ? " special" : "");
}

static const char *block_problem(struct mm_struct *mm, pte_t *block)
{
	unsigned long pfn0 = pte_pfn(__ptep_get(block));
	pgprot_t prot = pte_pgprot(pte_mkold(pte_mkclean(__ptep_get(block))));
	struct folio *folio;

	if (pfn0 & (CONT_PTES - 1))
		return "first pfn not aligned to the block";
	for (unsigned int i = 0; i < CONT_PTES; i++) {
		pte_t pte = __ptep_get(block + i);

		if (!pte_valid(pte))
			return "invalid entry in a CONT block";
		if (!pte_cont(pte))
			return "CONT and non-CONT entries mixed";
		if (pte_pfn(pte) != pfn0 + i)
			return "pfns not contiguous";
		if (pgprot_val(pte_pgprot(pte_mkold(pte_mkclean(pte)))) !=
		    pgprot_val(prot))
			return "entries differ in more than AF and dirty";
	}
	folio = page_folio(pfn_to_page(mm->pmem, pfn0));
	if (!folio || folio_pfn(folio) + folio_nr_pages(folio) < pfn0 + CONT_PTES)
		return "block not inside one folio";
	return NULL;
}

bool contpte_check_block(struct mm_struct *mm, pte_t *ptep)
{
	pte_t *block = contpte_align_down(ptep);
	const char *problem = NULL;
	bool any_cont = false;

	for (unsigned int i = 0; i < CONT_PTES; i++)
		any_cont |= pte_cont(__ptep_get(block + i));
	if (any_cont)
		problem = block_problem(mm, block);
	if (!problem)
		return true;
	if (ft_report_begin("contpte block")) {
		struct ptdesc *pt = ptdesc_of(block);

		ft_report_msg("BUG: misprogrammed contpte block: %s\n", problem);
		fprintf(stderr, "block at %#lx (mm id %u):\n",
			pt->addr + (unsigned long)(block - pt->ptes) * PAGE_SIZE,
			mm->mm_id);
		for (unsigned int i = 0; i < CONT_PTES; i++) {
			fprintf(stderr, "  [%2u] ", i);
			pte_describe(stderr, __ptep_get(block + i));
			fprintf(stderr, "\n");
		}
		ft_report_end();
	}
	return false;
}
