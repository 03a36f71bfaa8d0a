// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_contpte [--inject=NAME]: the contpte layer, one rule at a time
 * (arm64's contpte_try_fold(), set_ptes() and contpte_convert()): the fold
 * conditions, where set_ptes writes CONT directly, which operations unfold
 * (and are counted for which reason) and which keep a block folded, a/d
 * gathering, and the block oracle.  Every case ends with no oracle report;
 * the negative controls break the layer (--inject) or the block (a raw
 * write) and must be caught.
 */
#include "ft/contpte.h"
#include "ft/zoo.h"
#include "mm_test.h"

#define NR_PFNS		(8UL << MAX_PAGE_ORDER)
#define BLOCK_VA	(4 * PMD_SIZE)		/* block-aligned */

static struct ft_pmem pmem;
static struct mm_id_space ids;
static struct test_mm t;
static struct ft_ktap k;

/* The entry for @addr, with a table allocated and its PTL taken. */
static pte_t *lock_pte(unsigned long addr, spinlock_t **ptl)
{
	pmd_t *pmd = pmd_off(&t.mm, addr);

	if (__pte_alloc(&t.mm, pmd, addr))
		return NULL;
	return pte_offset_map_lock(&t.mm, pmd, addr, ptl);
}

static pte_t page_pte(struct folio *folio, unsigned long idx, pgprot_t prot)
{
	return pfn_pte(folio_pfn(folio) + idx, prot);
}

/* Map @n pages of @folio from page @first at @addr with single set_pte_at
 * calls in ascending order, as faults fill a range. */
static void map_one_by_one(unsigned long addr, struct folio *folio,
			   unsigned long first, unsigned int n, pgprot_t prot)
{
	for (unsigned int i = 0; i < n; i++) {
		spinlock_t *ptl;
		pte_t *ptep = lock_pte(addr + i * PAGE_SIZE, &ptl);

		set_pte_at(&t.mm, addr + i * PAGE_SIZE, ptep,
			   page_pte(folio, first + i, prot));
		pte_unmap_unlock(ptep, ptl);
	}
}

static void clear_range(unsigned long addr, unsigned int n)
{
	spinlock_t *ptl;
	pte_t *ptep = lock_pte(addr, &ptl);

	clear_full_ptes(&t.mm, addr, ptep, n, 0);
	pte_unmap_unlock(ptep, ptl);
}

static pte_t *raw(unsigned long addr)
{
	return &pmdp_get_lockless(pmd_off(&t.mm, addr))->ptes[pte_index(addr)];
}

/* Counts of entries in [addr, addr + n pages) with a property. */
static unsigned int count_if(unsigned long addr, unsigned int n,
			     bool (*pred)(pte_t))
{
	unsigned int c = 0;

	for (unsigned int i = 0; i < n; i++)
		c += pred(__ptep_get(raw(addr + i * PAGE_SIZE)));
	return c;
}

static bool is_cont(pte_t pte)
{
	return pte_valid_cont(pte);
}

static bool is_dirty(pte_t pte)
{
	return pte_dirty(pte);
}

static bool is_young(pte_t pte)
{
	return pte_young(pte);
}

static bool is_write(pte_t pte)
{
	return pte_write(pte);
}

static bool is_present(pte_t pte)
{
	return pte_present(pte);
}

static u64 ev(enum vm_event_item item)
{
	return ft_vm_event(&pmem, item);
}

static struct folio *alloc(unsigned int order)
{
	return folio_alloc(&pmem, order, NULL);
}

/* ---- Fold conditions (contpte_try_fold()) ------------------------------------------ */

static void case_fold_conditions(void)
{
	struct folio *f = alloc(4), *big = alloc(5), *a = alloc(3), *b = alloc(3);
	u64 folds = ev(CONTPTE_FOLD);

	map_one_by_one(BLOCK_VA, f, 0, 15, PAGE_SHARED);
	ft_ktap_result(&k, !count_if(BLOCK_VA, 16, is_cont), "15 of 16 entries: no CONT");
	map_one_by_one(BLOCK_VA + 15 * PAGE_SIZE, f, 15, 1, PAGE_SHARED);
	ft_ktap_result(&k, count_if(BLOCK_VA, 16, is_cont) == 16 &&
		       ev(CONTPTE_FOLD) == folds + 1,
		       "the 16th entry folds the block (aligned VA and pfn, one folio)");
	clear_range(BLOCK_VA, 16);

	map_one_by_one(BLOCK_VA + PAGE_SIZE, f, 0, 16, PAGE_SHARED);
	ft_ktap_result(&k, !count_if(BLOCK_VA, 32, is_cont), "unaligned VA: no fold");
	clear_range(BLOCK_VA + PAGE_SIZE, 16);

	map_one_by_one(BLOCK_VA, big, 8, 16, PAGE_SHARED);
	ft_ktap_result(&k, !count_if(BLOCK_VA, 16, is_cont), "unaligned pfn: no fold");
	clear_range(BLOCK_VA, 16);

	if (folio_pfn(b) == folio_pfn(a) + 8 && !(folio_pfn(a) % 16)) {
		map_one_by_one(BLOCK_VA, a, 0, 8, PAGE_SHARED);
		map_one_by_one(BLOCK_VA + 8 * PAGE_SIZE, b, 0, 8, PAGE_SHARED);
		ft_ktap_result(&k, !count_if(BLOCK_VA, 16, is_cont),
			       "two folios, contiguous pfns: no fold");
		clear_range(BLOCK_VA, 16);
	} else {
		ft_ktap_result(&k, false, "two folios: not adjacent (%#lx, %#lx)",
			       folio_pfn(a), folio_pfn(b));
	}

	map_one_by_one(BLOCK_VA, f, 0, 7, PAGE_SHARED);
	map_one_by_one(BLOCK_VA + 7 * PAGE_SIZE, f, 7, 1, PAGE_READONLY);
	map_one_by_one(BLOCK_VA + 8 * PAGE_SIZE, f, 8, 8, PAGE_SHARED);
	ft_ktap_result(&k, !count_if(BLOCK_VA, 16, is_cont), "one entry read-only: no fold");
	clear_range(BLOCK_VA, 16);

	map_one_by_one(BLOCK_VA, f, 0, 16, (pgprot_t){ pgprot_val(PAGE_SHARED) | PTE_SPECIAL });
	ft_ktap_result(&k, !count_if(BLOCK_VA, 16, is_cont), "special entries: no fold");
	clear_range(BLOCK_VA, 16);

	map_one_by_one(BLOCK_VA, f, 0, 7, PAGE_SHARED);
	map_one_by_one(BLOCK_VA + 8 * PAGE_SIZE, f, 8, 8, PAGE_SHARED);
	ft_ktap_result(&k, !count_if(BLOCK_VA, 16, is_cont), "a hole: no fold");
	map_one_by_one(BLOCK_VA + 7 * PAGE_SIZE, f, 7, 1, PAGE_SHARED);
	ft_ktap_result(&k, !count_if(BLOCK_VA, 16, is_cont),
		       "filling the hole away from the last entry: still no fold");
	map_one_by_one(BLOCK_VA + 15 * PAGE_SIZE, f, 15, 1, PAGE_SHARED);
	ft_ktap_result(&k, count_if(BLOCK_VA, 16, is_cont) == 16,
		       "rewriting the last entry folds it");
	clear_range(BLOCK_VA, 16);

	map_one_by_one(BLOCK_VA, f, 0, 16, (pgprot_t){ pgprot_val(PAGE_SHARED) & ~PTE_AF });
	ft_ktap_result(&k, count_if(BLOCK_VA, 16, is_cont) == 16,
		       "entries differing only in AF and dirty fold");
	clear_range(BLOCK_VA, 16);
	folio_put(f);
	folio_put(big);
	folio_put(a);
	folio_put(b);
}

/* A folded, writable, clean block of folio @f at BLOCK_VA. */
static void fold(struct folio *f)
{
	map_one_by_one(BLOCK_VA, f, 0, 16, PAGE_SHARED);
}

/* ---- A/D gathering and what unfolds (the public API, contpte_convert()) ---------- */

static void case_ad_gathering(void)
{
	struct folio *f = alloc(4);
	u64 unfolds = ev(CONTPTE_UNFOLD_SET_PTE);
	unsigned long pfn;
	spinlock_t *ptl;
	pte_t *ptep;

	fold(f);
	ft_hw_access(&t.mm, BLOCK_VA + 5 * PAGE_SIZE, true, NULL, &pfn);
	ptep = lock_pte(BLOCK_VA, &ptl);
	ft_ktap_result(&k, !pte_dirty(__ptep_get(ptep)) && pte_dirty(ptep_get(ptep)) &&
		       pfn == folio_pfn(f) + 5,
		       "hardware dirty on entry 5: ptep_get(entry 0) shows it, raw does not");
	ft_ktap_result(&k, pte_dirty(ptep_get_lockless(ptep + 10)),
		       "ptep_get_lockless gathers it too");
	/* A single set over a CONT entry unfolds; entry 0 is not a block end. */
	set_pte_at(&t.mm, BLOCK_VA, ptep, ptep_get(ptep));
	pte_unmap_unlock(ptep, ptl);
	ft_ktap_result(&k, !count_if(BLOCK_VA, 16, is_cont) &&
		       ev(CONTPTE_UNFOLD_SET_PTE) == unfolds + 1,
		       "set_pte_at over CONT unfolds (counted as single set)");
	ft_ktap_result(&k, count_if(BLOCK_VA, 16, is_dirty) == 16 &&
		       count_if(BLOCK_VA, 16, is_young) == 16,
		       "unfold spreads dirty and young to all 16 entries");
	clear_range(BLOCK_VA, 16);
	folio_put(f);
}

static void case_wrprotect(void)
{
	struct folio *f = alloc(4);
	u64 partial = ev(CONTPTE_UNFOLD_WRPROTECT_PARTIAL);
	spinlock_t *ptl;
	pte_t *ptep;

	fold(f);
	ptep = lock_pte(BLOCK_VA, &ptl);
	wrprotect_ptes(&t.mm, BLOCK_VA, ptep, 16);
	pte_unmap_unlock(ptep, ptl);
	ft_ktap_result(&k, count_if(BLOCK_VA, 16, is_cont) == 16 &&
		       !count_if(BLOCK_VA, 16, is_write),
		       "whole-block wrprotect: read-only and still folded");
	clear_range(BLOCK_VA, 16);

	fold(f);
	ptep = lock_pte(BLOCK_VA, &ptl);
	wrprotect_ptes(&t.mm, BLOCK_VA, ptep, 8);
	pte_unmap_unlock(ptep, ptl);
	ft_ktap_result(&k, !count_if(BLOCK_VA, 16, is_cont) &&
		       count_if(BLOCK_VA, 16, is_write) == 8 &&
		       ev(CONTPTE_UNFOLD_WRPROTECT_PARTIAL) == partial + 1,
		       "partial wrprotect unfolds, only its 8 entries read-only");
	clear_range(BLOCK_VA, 16);
	folio_put(f);
}

static void case_set_ptes_direct(void)
{
	struct folio *f = alloc(5);
	u64 folds = ev(CONTPTE_FOLD), converts = ev(CONTPTE_CONVERT);
	spinlock_t *ptl;
	pte_t *ptep;

	ptep = lock_pte(BLOCK_VA, &ptl);
	set_ptes(&t.mm, BLOCK_VA, ptep, page_pte(f, 0, PAGE_SHARED), 32);
	pte_unmap_unlock(ptep, ptl);
	ft_ktap_result(&k, count_if(BLOCK_VA, 32, is_cont) == 32 &&
		       ev(CONTPTE_FOLD) == folds && ev(CONTPTE_CONVERT) == converts,
		       "set_ptes(32) over two aligned blocks writes CONT directly");
	clear_range(BLOCK_VA, 32);

	ptep = lock_pte(BLOCK_VA + 8 * PAGE_SIZE, &ptl);
	set_ptes(&t.mm, BLOCK_VA + 8 * PAGE_SIZE, ptep, page_pte(f, 8, PAGE_SHARED), 24);
	pte_unmap_unlock(ptep, ptl);
	ft_ktap_result(&k, !count_if(BLOCK_VA, 16, is_cont) &&
		       count_if(BLOCK_VA + 16 * PAGE_SIZE, 16, is_cont) == 16,
		       "set_ptes(24) from mid-block: head non-CONT, whole block CONT");
	clear_range(BLOCK_VA + 8 * PAGE_SIZE, 24);
	folio_put(f);
}

static void case_clear(void)
{
	struct folio *f = alloc(4);
	u64 partial = ev(CONTPTE_UNFOLD_CLEAR_PARTIAL);
	unsigned long pfn;
	spinlock_t *ptl;
	pte_t *ptep, got;

	fold(f);
	clear_range(BLOCK_VA, 16);
	ft_ktap_result(&k, !count_if(BLOCK_VA, 16, is_present) &&
		       ev(CONTPTE_UNFOLD_CLEAR_PARTIAL) == partial,
		       "clearing a whole block: no unfold");
	fold(f);
	clear_range(BLOCK_VA + 4 * PAGE_SIZE, 8);
	ft_ktap_result(&k, count_if(BLOCK_VA, 16, is_present) == 8 &&
		       !count_if(BLOCK_VA, 16, is_cont) &&
		       ev(CONTPTE_UNFOLD_CLEAR_PARTIAL) == partial + 1,
		       "clearing part of a block (MADV_DONTNEED-like) unfolds it");
	clear_range(BLOCK_VA, 4);
	clear_range(BLOCK_VA + 12 * PAGE_SIZE, 4);

	fold(f);
	ft_hw_access(&t.mm, BLOCK_VA + 9 * PAGE_SIZE, true, NULL, &pfn);
	ptep = lock_pte(BLOCK_VA, &ptl);
	got = get_and_clear_full_ptes(&t.mm, BLOCK_VA, ptep, 16, 0);
	pte_unmap_unlock(ptep, ptl);
	ft_ktap_result(&k, pte_dirty(got) && pte_pfn(got) == folio_pfn(f),
		       "get_and_clear_full_ptes returns entry 0 with the block's dirty");
	folio_put(f);
}

static void case_access_flags(void)
{
	struct folio *f = alloc(4);
	u64 unfolds = ev(CONTPTE_UNFOLD_ACCESS_FLAGS);
	spinlock_t *ptl;
	pte_t *ptep, want;
	int young;

	fold(f);
	ptep = lock_pte(BLOCK_VA, &ptl);
	young = ptep_test_and_clear_young(&t.vma, BLOCK_VA, ptep + 3);
	ft_ktap_result(&k, young && !count_if(BLOCK_VA, 16, is_young) &&
		       count_if(BLOCK_VA, 16, is_cont) == 16,
		       "test_and_clear_young: all 16 old, still folded");
	want = pte_mkyoung(__ptep_get(ptep + 3));
	ptep_set_access_flags(&t.vma, BLOCK_VA + 3 * PAGE_SIZE, ptep + 3, want, 0);
	ft_ktap_result(&k, count_if(BLOCK_VA, 16, is_young) == 16 &&
		       count_if(BLOCK_VA, 16, is_cont) == 16,
		       "set_access_flags without a write change: all 16 young, folded");
	ft_ktap_result(&k, !ptep_set_access_flags(&t.vma, BLOCK_VA + 3 * PAGE_SIZE,
						  ptep + 3, want, 0),
		       "the same again is a no-op, checked per entry");
	wrprotect_ptes(&t.mm, BLOCK_VA, ptep, 16);
	want = pte_mkdirty(pte_mkwrite_novma(__ptep_get(ptep + 3)));
	ptep_set_access_flags(&t.vma, BLOCK_VA + 3 * PAGE_SIZE, ptep + 3, want, 1);
	pte_unmap_unlock(ptep, ptl);
	ft_ktap_result(&k, !count_if(BLOCK_VA, 16, is_cont) &&
		       count_if(BLOCK_VA, 16, is_write) == 1 &&
		       ev(CONTPTE_UNFOLD_ACCESS_FLAGS) == unfolds + 1,
		       "a write upgrade (reuse) unfolds; only the target writable");
	clear_range(BLOCK_VA, 16);
	folio_put(f);
}

static void case_mprotect(void)
{
	struct folio *f = alloc(4);
	u64 partial = ev(CONTPTE_UNFOLD_MPROTECT_PARTIAL);
	spinlock_t *ptl;
	pte_t *ptep, old;

	fold(f);
	ptep = lock_pte(BLOCK_VA, &ptl);
	old = modify_prot_start_ptes(&t.vma, BLOCK_VA, ptep, 16);
	modify_prot_commit_ptes(&t.vma, BLOCK_VA, ptep, old,
				pte_modify(old, PAGE_READONLY), 16);
	ft_ktap_result(&k, count_if(BLOCK_VA, 16, is_cont) == 16 &&
		       !count_if(BLOCK_VA, 16, is_write),
		       "whole-block mprotect: re-created folded with the new prot");
	old = modify_prot_start_ptes(&t.vma, BLOCK_VA + 4 * PAGE_SIZE, ptep + 4, 4);
	modify_prot_commit_ptes(&t.vma, BLOCK_VA + 4 * PAGE_SIZE, ptep + 4, old,
				pte_modify(old, PAGE_SHARED), 4);
	pte_unmap_unlock(ptep, ptl);
	ft_ktap_result(&k, !count_if(BLOCK_VA, 16, is_cont) &&
		       count_if(BLOCK_VA, 16, is_write) == 4 &&
		       ev(CONTPTE_UNFOLD_MPROTECT_PARTIAL) == partial + 1,
		       "partial mprotect unfolds; the changed part is non-CONT");
	clear_range(BLOCK_VA, 16);
	folio_put(f);
}

/* The hardware may use any entry of a CONT block (Arm ARM D8.7.1). */
static void case_hw_any_entry(void)
{
	struct folio *f = alloc(4);
	struct ft_random_state rs;
	bool ok = true;

	ft_random_init(&rs, 5, 0, 0, 0);
	fold(f);
	for (unsigned int i = 0; i < 64; i++) {
		unsigned long pfn, idx = i % 16;

		ok = ok && ft_hw_access(&t.mm, BLOCK_VA + idx * PAGE_SIZE, true, &rs,
					&pfn) == FT_HW_OK && pfn == folio_pfn(f) + idx;
	}
	ft_ktap_result(&k, ok && count_if(BLOCK_VA, 16, is_dirty) > 1,
		       "writes through a folded block: right pfns, dirty on %u entries",
		       count_if(BLOCK_VA, 16, is_dirty));
	clear_range(BLOCK_VA, 16);
	folio_put(f);
}

/* ---- The oracle and its negative controls ------------------------------------------ */

/* Fork-like: the child gets half a block from a template read from the
 * folded parent.  Correct only because set_ptes() strips the leaked CONT. */
static void case_copy_half_block(void)
{
	struct folio *f = alloc(4);
	unsigned long child = BLOCK_VA + 2 * PMD_SIZE;
	spinlock_t *ptl, *cptl;
	pte_t *ptep, *cptep, tmpl;

	fold(f);
	/* copy_pte_range's order: the child's PTL, then the parent's nested. */
	cptep = lock_pte(child, &cptl);
	ptep = pte_offset_map_nolock(&t.mm, pmd_off(&t.mm, BLOCK_VA), BLOCK_VA, &ptl);
	spin_lock_nested(ptl, SINGLE_DEPTH_NESTING);
	tmpl = ptep_get(ptep);
	set_ptes(&t.mm, child, cptep, tmpl, 8);
	spin_unlock(ptl);
	pte_unmap_unlock(cptep, cptl);
	ft_ktap_result(&k, !count_if(child, 16, is_cont),
		       "half a block copied from a CONT template: no CONT in the copy");
	clear_range(child, 8);
	clear_range(BLOCK_VA, 16);
	folio_put(f);
}

static void case_oracle(void)
{
	struct folio *f = alloc(4);
	u64 before = ft_report_failures();
	spinlock_t *ptl;
	pte_t *ptep;

	fold(f);
	ptep = lock_pte(BLOCK_VA, &ptl);
	ft_ktap_result(&k, contpte_check_block(&t.mm, ptep), "a folded block is consistent");
	__set_pte(ptep + 5, pte_mknoncont(__ptep_get(ptep + 5)));	/* corrupt */
	ft_ktap_result(&k, !contpte_check_block(&t.mm, ptep) &&
		       ft_report_failures() == before + 1,
		       "negative control: a raw non-CONT write into the block is caught");
	__set_pte(ptep + 5, pte_mkcont(__ptep_get(ptep + 5)));
	pte_unmap_unlock(ptep, ptl);
	ft_report_reset();
	clear_range(BLOCK_VA, 16);
	folio_put(f);
}

int main(int argc, char **argv)
{
	const char *inject = ft_test_arg(argc, argv, "--inject", NULL);

	if ((inject && ft_inject_enable(inject)) ||
	    ft_pmem_init(&pmem, NR_PFNS, ft_mapcount_model_find("owner_slots"), false) ||
	    mm_id_space_init(&ids, MM_ID_MAX) || test_mm_init(&t, &ids) ||
	    mm_pgtables_init(&t.mm, &pmem, 64 * PMD_SIZE))
		return FT_EXIT_USAGE;
	ft_ktap_start(34);
	case_oracle();
	case_fold_conditions();
	case_ad_gathering();
	case_wrprotect();
	case_set_ptes_direct();
	case_clear();
	case_access_flags();
	case_mprotect();
	case_hw_any_entry();
	case_copy_half_block();
	ft_ktap_result(&k, ft_report_failures() == 0, "no oracle fired (%llu)",
		       (unsigned long long)ft_report_failures());
	ft_ktap_result(&k, ft_pmem_nr_used_pages(&pmem) == 0, "every folio freed");
	free_pgtables(&t.mm);
	mm_id_space_destroy(&ids);
	ft_pmem_destroy(&pmem);
	return ft_ktap_finish(&k);
}
