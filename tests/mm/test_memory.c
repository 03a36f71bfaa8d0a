// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_memory [--locking=MODE]: the mm operations, deterministic and
 * single-threaded, each case followed by the audit of every page table
 * against every folio (include/ft/check.h), and a leak check at the end.
 *
 *   lifecycle     the case __wp_can_reuse_large_anon_folio() is for: an
 *                 order-4 folio faulted, fork, the child exits, the
 *                 parent writes and reuses; every
 *                 refcount, mapcount, slot, SHARED and AnonExclusive value
 *   cow           fork of a contpte-mapped range; child and parent write
 *                 and copy; contents stay apart
 *   dontneed      partial MADV_DONTNEED unfolds and queues deferred split
 *   mprotect      whole-block mprotect keeps CONT, partial unfolds; a
 *                 write upgrade only for exclusive pages
 *   pinned        a pinned exclusive page is copied at fork, the rest shared
 *                 (and, for a large folio, every exclusive page of it)
 *   fork-breaks   a break forced at every PTE offset of a block (the
 *                 threshold looped) leaves both page tables right
 *   gather        zap with gather capacity 1, and NO_GATHER, free nothing
 *                 still mapped
 *   migrate       migration of a forked contpte folio, refolded one PTE at
 *                 a time; a pinned folio is not migrated; young clearing
 *   pageout       DAMON's reclaim of a folio found by pfn: kept while
 *                 young, swapped out, freed, swapped back in
 *   vmas          munmap splits, SIGSEGV outside VMAs, mprotect denies
 *   mremap        a forked contpte folio moved across a table boundary to
 *                 an address not aligned to its pfn (no CONT), back to an
 *                 aligned one (refolded), migrated there by rmap; a move
 *                 across two VMAs, shrink and grow in place, bad arguments;
 *                 Z8's shape (a writable folded block before a read-only
 *                 one of the same folio) moved with the write bits kept
 *   mremap-past-folio  with batch-past-folio a folded folio and the empty
 *                 entries after it move as one batch: the destination maps
 *                 the pages after the folio, uncounted (Z3/B3 in mremap)
 *   lazyfree-past-folio  the same batch in MADV_FREE leaves a garbage
 *                 entry after the folio (a bad swap entry at the next fault)
 *   anon-vma-reuse  twenty generations of fork and exit: the anon_vma
 *                 chain stays bounded, as the kernel's reuse keeps it
 *   fork-dirty-batch  a second fork of a large folio of which a later
 *                 page alone is dirty gives the child that page dirty;
 *                 with the batch-over-hole injection (no scan, so no
 *                 dirty bits merged) the entry is clean, the loss the
 *                 torture's dirty-bit oracle reports for that injection
 */
#include <errno.h>

#include "ft/check.h"
#include "ft/contpte.h"
#include "ft/sched.h"
#include "ft/zoo.h"
#include "mm_test.h"

#define NR_PFNS		(16UL << MAX_PAGE_ORDER)

static struct ft_pmem pmem;
static struct ft_world w;
static struct ft_random_state rs;
static struct ft_ktap k;

/* The folio mapped at page @i, without keeping a reference. */
static struct folio *folio_of(struct mm_struct *mm, unsigned long i)
{
	struct folio *folio = ft_folio_at(mm, test_va(i));

	if (folio)
		folio_put(folio);
	return folio;
}

static unsigned int count_pages(struct mm_struct *mm, unsigned long first,
				unsigned int n, bool (*pred)(pte_t))
{
	unsigned int c = 0;

	for (unsigned int i = 0; i < n; i++)
		c += pred(test_pte(mm, first + i));
	return c;
}

static bool is_cont(pte_t p) { return pte_valid_cont(p); }
static bool is_write(pte_t p) { return pte_write(p); }
static bool is_present(pte_t p) { return pte_present(p); }

static void audit(const char *what, struct mm_struct **mms, int n)
{
	struct ft_audit_stats st;
	int bad = ft_audit(&w, mms, n, &st);

	ft_ktap_result(&k, !bad, "%s: audit of %d mm(s): %llu PTEs, %llu folios, "
		       "%llu CONT blocks, %d problems", what, n,
		       (unsigned long long)st.ptes, (unsigned long long)st.folios,
		       (unsigned long long)st.cont_blocks, bad);
}

static struct ft_mapcount_snapshot snap(struct folio *folio)
{
	struct ft_mapcount_snapshot s;

	folio_mapcount_snapshot(folio, &s);
	return s;
}

static unsigned int nr_exclusive(struct folio *folio)
{
	unsigned int n = 0;

	for (unsigned long i = 0; i < folio_nr_pages(folio); i++)
		n += PageAnonExclusive(folio_page(folio, i));
	return n;
}

/* ---- Cases ------------------------------------------------------------------------- */

static void case_lifecycle(void)
{
	struct mm_struct *p = test_new_mm(&w), *c;
	struct folio *f;
	struct ft_mapcount_snapshot s;

	w.anon_orders = BIT(0) | BIT(4);
	test_put(p, 5, 0x5, &rs);
	f = folio_of(p, 5);
	s = snap(f);
	ft_ktap_result(&k, folio_order(f) == 4 && folio_ref_count(f) == 16 &&
		       s.mapcount == 16 && s.slot[0].id == p->mm_id &&
		       s.slot[0].mapcount == 16 && !s.slot[1].id && !s.shared &&
		       nr_exclusive(f) == 16 && count_pages(p, 0, 16, is_cont) == 16,
		       "lifecycle: fault: order 4, ref 16, map 16, slot0 P:16, exclusive, CONT");
	c = ft_fork(p);
	s = snap(f);
	ft_ktap_result(&k, folio_ref_count(f) == 32 && s.mapcount == 32 &&
		       s.slot[1].id == c->mm_id && s.slot[1].mapcount == 16 && s.shared &&
		       nr_exclusive(f) == 0 && !count_pages(p, 0, 16, is_write) &&
		       !count_pages(c, 0, 16, is_write) &&
		       count_pages(p, 0, 16, is_cont) == 16 &&
		       count_pages(c, 0, 16, is_cont) == 16,
		       "lifecycle: fork: ref 32, map 32, slot1 C:16, SHARED, none "
		       "exclusive, both read-only and folded");
	audit("lifecycle after fork", (struct mm_struct *[]){ p, c }, 2);
	mmput(c);
	s = snap(f);
	ft_ktap_result(&k, folio_ref_count(f) == 16 && s.mapcount == 16 && !s.shared &&
		       !s.slot[1].id && s.slot[0].mapcount == 16,
		       "lifecycle: child exit: ref 16, map 16, slot1 free, SHARED clear");
	test_put(p, 5, 0x55, &rs);
	ft_ktap_result(&k, folio_of(p, 5) == f && folio_ref_count(f) == 16 &&
		       PageAnonExclusive(folio_page(f, 5)) && nr_exclusive(f) == 1 &&
		       pte_write(test_pte(p, 5)) && count_pages(p, 0, 16, is_write) == 1 &&
		       !count_pages(p, 0, 16, is_cont),
		       "lifecycle: parent write reuses: page 5 exclusive and writable, "
		       "the block unfolded, no copy");
	test_put(p, 6, 0x66, &rs);
	ft_ktap_result(&k, nr_exclusive(f) == 2 && test_get(p, 5, &rs) == 0x55 &&
		       test_get(p, 6, &rs) == 0x66, "lifecycle: page 6 reused too");
	audit("lifecycle", (struct mm_struct *[]){ p }, 1);
	mmput(p);
}

static void case_cow(void)
{
	struct mm_struct *p = test_new_mm(&w), *c;
	struct folio *f;
	bool apart;

	w.anon_orders = BIT(0) | BIT(4);
	for (unsigned long i = 0; i < 16; i++)
		test_put(p, i, i, &rs);
	f = folio_of(p, 0);
	c = ft_fork(p);
	test_put(c, 3, 0xc3, &rs);
	ft_ktap_result(&k, folio_of(c, 3) != f && folio_order(folio_of(c, 3)) == 0 &&
		       folio_mapcount(f) == 31 && !count_pages(c, 0, 16, is_cont) &&
		       count_pages(p, 0, 16, is_cont) == 16,
		       "cow: the child's write copies page 3 and unfolds its block only");
	test_put(p, 3, 0xa3, &rs);
	apart = test_get(p, 3, &rs) == 0xa3 && test_get(c, 3, &rs) == 0xc3 &&
		test_get(p, 4, &rs) == 4 && test_get(c, 4, &rs) == 4;
	ft_ktap_result(&k, folio_of(p, 3) != f && folio_mapcount(f) == 30 && apart,
		       "cow: the parent copies too (still shared); contents stay apart");
	audit("cow", (struct mm_struct *[]){ p, c }, 2);
	mmput(c);
	mmput(p);
}

static void case_dontneed(void)
{
	struct mm_struct *p = test_new_mm(&w);
	u64 unfolds = ft_vm_event(&pmem, CONTPTE_UNFOLD_CLEAR_PARTIAL);
	struct folio *f;

	w.anon_orders = BIT(4);
	test_put(p, 0, 1, &rs);
	f = folio_of(p, 0);
	ft_madvise_dontneed(p, test_va(2), 4 * PAGE_SIZE);
	ft_ktap_result(&k, !count_pages(p, 0, 16, is_cont) &&
		       count_pages(p, 0, 16, is_present) == 12 && folio_mapcount(f) == 12 &&
		       folio_on_deferred_list(f) &&
		       ft_vm_event(&pmem, CONTPTE_UNFOLD_CLEAR_PARTIAL) == unfolds + 1,
		       "dontneed: 4 of 16 pages: unfolded, 12 mapped, queued for split");
	test_put(p, 3, 3, &rs);
	ft_ktap_result(&k, folio_of(p, 3) != f, "dontneed: a new fault fills the hole");
	audit("dontneed", (struct mm_struct *[]){ p }, 1);
	mmput(p);
}

static void case_mprotect(void)
{
	struct mm_struct *p = test_new_mm(&w), *c;
	u64 partial = ft_vm_event(&pmem, CONTPTE_UNFOLD_MPROTECT_PARTIAL);

	w.anon_orders = BIT(4);
	test_put(p, 0, 1, &rs);
	ft_mprotect(p, TEST_VA, 16 * PAGE_SIZE, VM_READ);
	ft_ktap_result(&k, count_pages(p, 0, 16, is_cont) == 16 &&
		       !count_pages(p, 0, 16, is_write),
		       "mprotect: the whole block read-only and still folded");
	ft_mprotect(p, test_va(4), 4 * PAGE_SIZE, VM_READ | VM_WRITE);
	ft_ktap_result(&k, !count_pages(p, 0, 16, is_cont) &&
		       count_pages(p, 4, 4, is_write) == 4 &&
		       ft_vm_event(&pmem, CONTPTE_UNFOLD_MPROTECT_PARTIAL) == partial + 1,
		       "mprotect: 4 pages back to writable: unfolded, exclusive pages "
		       "upgraded");
	ft_mprotect(p, TEST_VA, 16 * PAGE_SIZE, VM_READ | VM_WRITE);
	c = ft_fork(p);
	ft_mprotect(p, TEST_VA, 16 * PAGE_SIZE, VM_READ);
	ft_mprotect(p, TEST_VA, 16 * PAGE_SIZE, VM_READ | VM_WRITE);
	ft_ktap_result(&k, !count_pages(p, 0, 16, is_write),
		       "mprotect: shared (not exclusive) pages are not upgraded");
	audit("mprotect", (struct mm_struct *[]){ p, c }, 2);
	mmput(c);
	mmput(p);
}

static unsigned int count_same_pfn(struct mm_struct *a, struct mm_struct *b,
				   unsigned int n)
{
	unsigned int same = 0;

	for (unsigned int i = 0; i < n; i++)
		same += pte_pfn(test_pte(a, i)) == pte_pfn(test_pte(b, i));
	return same;
}

static void case_pinned(void)
{
	struct mm_struct *p = test_new_mm(&w), *c;
	struct folio *pinned;

	w.anon_orders = BIT(0);
	for (unsigned long i = 0; i < 8; i++)
		test_put(p, i, i, &rs);
	pinned = ft_pin_user_page(p, test_va(2));
	c = ft_fork(p);
	ft_ktap_result(&k, pinned && count_same_pfn(p, c, 8) == 7 &&
		       pte_pfn(test_pte(p, 2)) != pte_pfn(test_pte(c, 2)) &&
		       pte_write(test_pte(p, 2)) && pte_write(test_pte(c, 2)) &&
		       test_get(c, 2, &rs) == 2 && count_pages(p, 0, 8, is_write) == 1,
		       "pinned: the pinned exclusive page copied for the child, 7 shared");
	audit("pinned", (struct mm_struct *[]){ p, c }, 2);
	ft_unpin_user_page(pinned);
	mmput(c);
	mmput(p);

	p = test_new_mm(&w);
	w.anon_orders = BIT(4);
	test_put(p, 0, 7, &rs);
	pinned = ft_pin_user_page(p, test_va(2));
	c = ft_fork(p);
	ft_ktap_result(&k, pinned && count_same_pfn(p, c, 16) == 0 &&
		       test_get(c, 9, &rs) == 0 && test_get(c, 0, &rs) == 7,
		       "pinned: a maybe-pinned large folio: all 16 exclusive pages copied");
	audit("pinned large", (struct mm_struct *[]){ p, c }, 2);
	ft_unpin_user_page(pinned);
	mmput(c);
	mmput(p);
}

static void case_fork_breaks(void)
{
	struct ft_sched sched = {
		.policy = FT_BREAK_POLICY_KERNEL, .resched_ppm = 1000000,
		.no_yield = true,
	};
	struct mm_struct *p = test_new_mm(&w);
	unsigned int offsets = 0;
	u64 breaks = 0;
	bool ok = true;

	w.anon_orders = BIT(0);
	/* Singles (+8 each) with holes (+1 each) so breaks land anywhere. */
	for (unsigned long i = 0; i < 48; i++)
		if (i % 7 != 3 && i % 11 != 5)
			test_put(p, i, i, &rs);
	w.anon_orders = BIT(4);
	test_put(p, 48, 48, &rs);		/* and one folded block: one batch */
	ft_random_init(&sched.rs, 3, 0, 0, 0);
	for (unsigned int t = 1; t <= 140; t++) {
		struct mm_struct *c;

		sched.threshold = t;
		sched.n_history = 0;
		ft_sched_set_current(&sched);
		c = ft_fork(p);
		ft_sched_set_current(NULL);
		for (u64 h = 0; h < min(sched.n_history, (u64)FT_SCHED_HISTORY); h++)
			offsets |= 1U << ((sched.history[h].addr >> PAGE_SHIFT) % CONT_PTES);
		breaks += sched.n_history;
		for (unsigned long i = 0; i < 64; i++)
			ok = ok && pte_val(test_pte(c, i)) == pte_val(pte_mkold(test_pte(p, i)));
		ok = ok && !ft_audit(&w, (struct mm_struct *[]){ p, c }, 2, NULL);
		mmput(c);
	}
	ft_ktap_result(&k, ok && breaks > 140 && offsets == 0xffff,
		       "fork-breaks: thresholds 1..140: %llu breaks at all 16 block "
		       "offsets (mask %#x), child equals parent, audits clean",
		       (unsigned long long)breaks, offsets);
	audit("fork-breaks", (struct mm_struct *[]){ p }, 1);
	mmput(p);
}

/* Fork, partial munmap, partial dontneed, exits: under a gather mode. */
static void gather_workload(const char *what)
{
	struct mm_struct *p = test_new_mm(&w), *c;
	u64 before = ft_report_failures();

	for (unsigned long i = 0; i < 96; i++) {
		w.anon_orders = BIT(i % 3 == 0 ? 4 : i % 3 == 1 ? 2 : 0);
		test_put(p, i, i, &rs);
	}
	c = ft_fork(p);
	ft_munmap(p, test_va(5), 20 * PAGE_SIZE);
	ft_madvise_dontneed(c, test_va(30), 33 * PAGE_SIZE);
	audit(what, (struct mm_struct *[]){ p, c }, 2);
	mmput(c);
	mmput(p);
	ft_ktap_result(&k, ft_report_failures() == before,
		       "%s: nothing freed while mapped (no bad page)", what);
}

static void case_gather(void)
{
	unsigned int capacity = w.gather_capacity;

	w.gather_capacity = 1;
	gather_workload("gather capacity 1");
	w.gather_capacity = capacity;
	w.no_gather = true;
	gather_workload("NO_GATHER");
	w.no_gather = false;
}

static void case_migrate(void)
{
	struct mm_struct *p = test_new_mm(&w), *c;
	u64 folds = ft_vm_event(&pmem, CONTPTE_FOLD);
	struct folio *f, *g, *pinned;
	int ret;

	w.anon_orders = BIT(4);
	for (unsigned long i = 0; i < 16; i++)
		test_put(p, i, 100 + i, &rs);
	c = ft_fork(p);
	f = folio_of(p, 0);
	ret = ft_migrate_at(p, test_va(0), &rs);
	g = folio_of(p, 0);
	ft_ktap_result(&k, !ret && g != f && folio_of(c, 0) == g && folio_mapcount(g) == 32 &&
		       test_get(c, 9, &rs) == 109 && test_get(p, 15, &rs) == 115 &&
		       count_pages(p, 0, 16, is_cont) == 16 &&
		       ft_vm_event(&pmem, CONTPTE_FOLD) >= folds + 2,
		       "migrate: both mms now map the copy, contents kept, refolded "
		       "by the one-at-a-time restore");
	audit("migrate", (struct mm_struct *[]){ p, c }, 2);
	ft_ktap_result(&k, ft_clear_young_at(p, test_va(0)) > 0 &&
		       !pte_young(ptep_get(&pmdp_get_lockless(pmd_off(c, TEST_VA))->ptes[pte_index(TEST_VA)])),
		       "young: one walk clears every mapping's young bit");
	mmput(c);
	test_put(p, 0, 1, &rs);		/* exclusive again: reuse */
	pinned = ft_pin_user_page(p, test_va(0));
	g = folio_of(p, 0);
	ret = ft_migrate_at(p, test_va(0), &rs);
	ft_ktap_result(&k, ret == -EBUSY && folio_of(p, 0) == g && test_get(p, 0, &rs) == 1,
		       "migrate: a pinned folio stays (-EBUSY), mappings restored");
	ft_unpin_user_page(pinned);
	audit("migrate pinned", (struct mm_struct *[]){ p }, 1);
	mmput(p);
}

/*
 * DAMON's pageout by pfn (ft_pageout_folio()), no page table in hand: a
 * young folio is kept with its young bits cleared, then unmapped to swap
 * and written, then freed; its content comes back from swap; a free
 * folio's slot is passed over without a reference.
 */
static void case_pageout(void)
{
	struct mm_struct *p = test_new_mm(&w);
	unsigned long freed[4];
	struct folio *f;

	w.anon_orders = BIT(4);
	for (unsigned long i = 0; i < 16; i++)
		test_put(p, i, 200 + i, &rs);
	f = folio_of(p, 0);
	for (int i = 0; i < 3; i++)
		freed[i] = ft_pageout_folio(f);
	ft_ktap_result(&k, !freed[0] && !freed[1] && freed[2] == 1 && !folio_ref_count(f) &&
		       count_pages(p, 0, 16, is_present) == 0,
		       "pageout: kept while young, then swapped out and freed (%lu %lu %lu)",
		       freed[0], freed[1], freed[2]);
	freed[3] = ft_pageout_folio(f);
	ft_ktap_result(&k, !freed[3] && !folio_ref_count(f) && test_get(p, 5, &rs) == 205 &&
		       test_get(p, 15, &rs) == 215,
		       "pageout: a free slot passed over, the content swapped back in");
	audit("pageout", (struct mm_struct *[]){ p }, 1);
	mmput(p);
}

static void case_vmas(void)
{
	struct mm_struct *p = test_new_mm(&w), *c;
	unsigned long v = 1;

	w.anon_orders = BIT(0);
	test_put(p, 0, 1, &rs);
	ft_munmap(p, test_va(1), PAGE_SIZE);
	ft_ktap_result(&k, ft_user_access(p, test_va(1), false, &v, &rs) == FT_FAULT_SIGSEGV &&
		       test_put(p, 2, 2, &rs) && test_get(p, 0, &rs) == 1,
		       "vmas: a hole punched by munmap faults, its neighbours work");
	ft_ktap_result(&k, ft_mmap(p, test_va(1), PAGE_SIZE, VM_READ | VM_WRITE) == 0 &&
		       test_put(p, 1, 11, &rs) &&
		       ft_mmap(p, test_va(1), PAGE_SIZE, VM_READ) == -EEXIST,
		       "vmas: mmap fills it again; an overlap is -EEXIST");
	ft_mprotect(p, TEST_VA, PAGE_SIZE, VM_READ);
	ft_ktap_result(&k, !test_put(p, 0, 5, &rs) && test_get(p, 0, &rs) == 1,
		       "vmas: a write to a read-only VMA is SIGSEGV");
	ft_munmap(p, test_va(8), PAGE_SIZE);
	ft_mmap(p, test_va(8), PAGE_SIZE, VM_READ | VM_WRITE);	/* no anon_vma */
	v = test_get(p, 8, &rs);	/* the zero page */
	test_put(p, 8, 88, &rs);	/* COW of the zero page: anon_vma_prepare() */
	c = ft_fork(p);
	ft_ktap_result(&k, v == 0 && test_get(c, 8, &rs) == 88 &&
		       find_vma_speculative(p, test_va(8))->anon_vma,
		       "vmas: a zero page written, then fork: the child has the page");
	mmput(c);
	/* Free slot 0, then split a later VMA twice: the upper half of the
	 * first split lands in slot 0, below the loop, and still straddles. */
	ft_munmap(p, TEST_VA, PAGE_SIZE);
	test_put(p, 40, 40, &rs);
	ft_munmap(p, test_va(20), 4 * PAGE_SIZE);
	ft_ktap_result(&k, ft_user_access(p, test_va(21), false, &v, &rs) == FT_FAULT_SIGSEGV &&
		       test_get(p, 40, &rs) == 40 && test_put(p, 19, 19, &rs),
		       "vmas: munmap in the middle of a VMA unmaps just that range");
	ft_ktap_result(&k, ft_munmap(p, TEST_VA, 3) == -EINVAL &&
		       ft_mprotect(p, TEST_VA, PAGE_SIZE, 0x80) == -EINVAL,
		       "vmas: bad arguments are -EINVAL");
	audit("vmas", (struct mm_struct *[]){ p }, 1);
	mmput(p);
}

static unsigned long values_at(struct mm_struct *mm, unsigned long first,
			       unsigned int n, unsigned long base)
{
	unsigned int ok = 0;

	for (unsigned int i = 0; i < n; i++)
		ok += test_get(mm, first + i, &rs) == base + i;
	return ok;
}

static int mremap_pages(struct mm_struct *mm, unsigned long from, unsigned long nr,
			unsigned long to)
{
	return ft_mremap(mm, test_va(from), nr * PAGE_SIZE, nr * PAGE_SIZE,
			 MREMAP_MAYMOVE | MREMAP_FIXED, test_va(to));
}

static void case_mremap(void)
{
	struct mm_struct *p = test_new_mm(&w), *c;
	unsigned long v = 0;
	struct folio *f;
	int ret;

	w.anon_orders = BIT(0) | BIT(5);
	for (unsigned long i = 0; i < 32; i++)
		test_put(p, i, 0x100 + i, &rs);
	f = folio_of(p, 0);
	c = ft_fork(p);
	/* 1528: 8 pages before a table boundary, and not pfn-aligned. */
	ret = mremap_pages(p, 0, 32, 1528);
	ft_ktap_result(&k, !ret && folio_order(f) == 5 && folio_of(p, 1528) == f &&
		       folio_of(p, 1559) == f && values_at(p, 1528, 32, 0x100) == 32 &&
		       !count_pages(p, 1528, 32, is_cont) && folio_mapcount(f) == 64 &&
		       ft_user_access(p, test_va(0), false, &v, &rs) == FT_FAULT_SIGSEGV &&
		       values_at(c, 0, 32, 0x100) == 32,
		       "mremap: 32 pages across a table boundary, unaligned: no CONT, "
		       "the old range unmapped, the child unchanged (%d)", ret);
	ret = mremap_pages(p, 1528, 32, 1600);
	ft_ktap_result(&k, !ret && count_pages(p, 1600, 32, is_cont) == 32 &&
		       values_at(p, 1600, 32, 0x100) == 32 && !count_pages(p, 1600, 32, is_write),
		       "mremap: back to an aligned address, refolded one entry at a time, "
		       "still read-only (%d)", ret);
	ret = ft_migrate_at(p, test_va(1600), &rs);
	ft_ktap_result(&k, !ret && folio_of(p, 1600) != f && folio_of(c, 0) == folio_of(p, 1600) &&
		       values_at(p, 1600, 32, 0x100) == 32 && values_at(c, 0, 32, 0x100) == 32,
		       "mremap: the rmap walk finds the moved pages by their page offset (%d)",
		       ret);
	test_put(p, 1603, 0xa3, &rs);
	ft_ktap_result(&k, test_get(c, 3, &rs) == 0x103 && test_get(p, 1603, &rs) == 0xa3,
		       "mremap: a write after the move still copies on write");
	audit("mremap", (struct mm_struct *[]){ p, c }, 2);
	/* Two VMAs (a read-only head), moved over a mapped range. */
	ft_mprotect(p, test_va(1600), 8 * PAGE_SIZE, VM_READ);
	ret = mremap_pages(p, 1600, 32, 200);
	ft_ktap_result(&k, !ret && values_at(p, 200, 3, 0x100) == 3 &&
		       values_at(p, 204, 28, 0x104) == 28 && !test_put(p, 201, 1, &rs) &&
		       test_put(p, 210, 0x10a, &rs) &&
		       ft_user_access(p, test_va(1610), false, &v, &rs) == FT_FAULT_SIGSEGV,
		       "mremap: across two VMAs, each keeping its protection (%d)", ret);
	ret = ft_mremap(p, test_va(208), 24 * PAGE_SIZE, 8 * PAGE_SIZE, 0, 0);
	ft_ktap_result(&k, !ret && ft_user_access(p, test_va(216), false, &v, &rs) ==
		       FT_FAULT_SIGSEGV && test_get(p, 215, &rs) == 0x10f,
		       "mremap: shrink in place (%d)", ret);
	ret = ft_mremap(p, test_va(208), 8 * PAGE_SIZE, 24 * PAGE_SIZE, 0, 0);
	ft_ktap_result(&k, !ret && test_get(p, 220, &rs) == 0 && test_get(p, 215, &rs) == 0x10f,
		       "mremap: grow in place into the hole (%d)", ret);
	ft_ktap_result(&k, mremap_pages(p, 200, 32, 216) == -EINVAL &&
		       ft_mremap(p, test_va(200), PAGE_SIZE, PAGE_SIZE, MREMAP_FIXED,
				 test_va(300)) == -EINVAL &&
		       mremap_pages(p, 1700, 4, 1800) == -EFAULT &&
		       ft_mremap(p, test_va(200), PAGE_SIZE, 2 * PAGE_SIZE, 0, 0) == -ENOMEM,
		       "mremap: overlap and FIXED without MAYMOVE -EINVAL, no VMA -EFAULT, "
		       "no room -ENOMEM");
	audit("mremap", (struct mm_struct *[]){ p, c }, 2);
	mmput(c);
	mmput(p);
}

/*
 * Z8's shape: one order-5 folio, its first block writable and folded
 * again (reused page by page after the other mm left, then migrated), its
 * second block folded read-only and not exclusive.  The move must keep
 * the second block read-only: a batch without FPB_RESPECT_WRITE (Z8) spans
 * both blocks and makes the second writable, which the audit's I11 sees.
 */
static void case_mremap_write_batch(void)
{
	struct mm_struct *p = test_new_mm(&w), *c;
	int ret;

	w.anon_orders = BIT(0) | BIT(5);
	test_put(p, 0, 0x100, &rs);
	c = ft_fork(p);
	mmput(c);
	for (unsigned long i = 0; i < 16; i++)
		test_put(p, i, 0x100 + i, &rs);
	ret = ft_migrate_at(p, test_va(0), &rs);
	ft_ktap_result(&k, !ret && count_pages(p, 0, 16, is_cont) == 16 &&
		       count_pages(p, 0, 16, is_write) == 16 &&
		       count_pages(p, 16, 16, is_cont) == 16 && !count_pages(p, 16, 16, is_write),
		       "mremap batch: a writable folded block before a read-only one (%d)", ret);
	ret = mremap_pages(p, 0, 32, 512);
	ft_ktap_result(&k, !ret && count_pages(p, 512, 16, is_write) == 16 &&
		       !count_pages(p, 528, 16, is_write),
		       "mremap batch: moved, the read-only block still read-only (%d)", ret);
	audit("mremap batch", (struct mm_struct *[]){ p }, 1);
	mmput(p);
}

/*
 * The entry for page @i, then the 8 entries from there cleared by hand:
 * batch-past-folio left them without rmap or references, and the
 * teardown would free pages it never counted.
 */
static pte_t take_past_folio(struct mm_struct *mm, unsigned long i)
{
	unsigned long va = test_va(i);
	spinlock_t *ptl;
	pte_t *ptep = pte_offset_map_lock(mm, pmd_off(mm, va), va, &ptl);
	pte_t ptent = ptep_get(ptep);

	for (unsigned int n = 0; n < 8; n++)
		ptep_get_and_clear(mm, va + n * PAGE_SIZE, ptep + n);
	pte_unmap_unlock(ptep, ptl);
	return ptent;
}

/*
 * Z3/B3's mremap symptom: with batch-past-folio, a folded order-4 folio
 * followed by empty entries moves as one batch with them, and the
 * destination maps the pages after the folio, with no rmap or reference
 * (mremap's batch makes no rmap call).  The owner slots of whatever folio
 * those pages belong to see it later: the zoo case declares them too.
 */
static void case_mremap_past_folio(void)
{
	struct mm_struct *p = test_new_mm(&w);
	struct folio *f;
	pte_t ptent;
	int ret;

	w.anon_orders = BIT(4);
	test_put(p, 0, 0x600, &rs);
	f = folio_of(p, 0);
	if (ft_inject_enable("batch-past-folio"))
		abort();
	ret = mremap_pages(p, 0, 24, 64);
	ft_inject_clear();
	ptent = take_past_folio(p, 80);
	ft_ktap_result(&k, !ret && folio_of(p, 64) == f && pte_present(ptent) &&
		       pte_pfn(ptent) == folio_pfn(f) + 16,
		       "mremap past the folio: with batch-past-folio the page after "
		       "the folio is mapped at the destination, uncounted (%d)", ret);
	audit("mremap past the folio", &p, 1);
	mmput(p);
}

/*
 * The same batch in MADV_FREE: it clears young and dirty on every entry
 * of the batch, and pte_mkclean() of an empty entry sets PTE_RDONLY, so
 * the empty entry after the folio becomes a non-present one that is no
 * swap entry (the bad swap entry oracle's report at the next fault).
 */
static void case_lazyfree_past_folio(void)
{
	struct mm_struct *p = test_new_mm(&w);
	pte_t ptent;
	int ret;

	w.anon_orders = BIT(4);
	test_put(p, 0, 0x700, &rs);
	if (ft_inject_enable("batch-past-folio"))
		abort();
	ret = ft_madvise_free(p, test_va(0), 24 * PAGE_SIZE);
	ft_inject_clear();
	ptent = take_past_folio(p, 16);
	ft_ktap_result(&k, !ret && !pte_none(ptent) && !pte_present(ptent),
		       "MADV_FREE past the folio: with batch-past-folio the empty "
		       "entry after the folio becomes %#llx (%d)",
		       (unsigned long long)pte_val(ptent), ret);
	audit("MADV_FREE past the folio", &p, 1);
	mmput(p);
}

static unsigned int chain_length(struct mm_struct *mm, unsigned long i)
{
	struct vm_area_struct *vma = find_vma_speculative(mm, test_va(i));
	struct anon_vma_chain *avc;
	unsigned int n = 0;

	list_for_each_entry(avc, &vma->anon_vma_chain, same_vma)
		n++;
	return n;
}

/*
 * Generations: each process forks, exits, and its child writes and forks
 * in turn.  The chain stays at three (the root, which a child always
 * keeps; the child's; one dead ancestor's, reused by the next fork), where
 * without anon_vma reuse it grows by one per generation.
 */
static void case_anon_vma_reuse(void)
{
	struct mm_struct *mm = test_new_mm(&w);
	unsigned int gen, longest = 0;
	bool contents = true;

	w.anon_orders = BIT(0);
	test_put(mm, 0, 0x1000, &rs);
	for (gen = 1; gen <= 20; gen++) {
		struct mm_struct *child = ft_fork(mm);

		mmput(mm);
		mm = child;
		contents &= test_get(mm, 0, &rs) == 0x1000 + gen - 1;
		test_put(mm, 0, 0x1000 + gen, &rs);
		longest = max(longest, chain_length(mm, 0));
	}
	ft_ktap_result(&k, longest == 3 && contents,
		       "anon_vma reuse: 20 generations, longest chain %u (3), "
		       "contents %s", longest, contents ? "kept" : "lost");
	audit("anon_vma reuse", &mm, 1);
	mmput(mm);
}

/*
 * Fork twice an order-2 folio (too small for CONT, whose reads would
 * gather the block's dirty bits) that was lazyfreed and then had only its
 * last page written: is the second child's entry for that page dirty?
 * The first fork leaves the parent's entries read-only with their dirty
 * bits, so the second copies a read-only batch, where fork does not
 * re-read them after write-protecting: only the batch scan merges them.
 */
static bool child_last_dirty(const char *inject)
{
	struct mm_struct *p = test_new_mm(&w), *c1, *c2;
	bool dirty;

	w.anon_orders = BIT(2);
	test_put(p, 0, 0x500, &rs);
	ft_madvise_free(p, test_va(0), 4 * PAGE_SIZE);
	test_put(p, 3, 0x503, &rs);
	c1 = ft_fork(p);
	if (inject && ft_inject_enable(inject))
		abort();
	c2 = ft_fork(p);
	ft_inject_clear();
	dirty = pte_dirty(test_pte(c2, 3));
	if (!inject)
		audit("fork-dirty-batch", (struct mm_struct *[]){ p, c1, c2 }, 3);
	mmput(c2);
	mmput(c1);
	mmput(p);
	return dirty;
}

static void case_fork_dirty_batch(void)
{
	ft_ktap_result(&k, child_last_dirty(NULL),
		       "fork-dirty-batch: the child's copy of the written page is dirty");
	ft_ktap_result(&k, !child_last_dirty("batch-over-hole"),
		       "fork-dirty-batch: batch-over-hole loses it (the injection's "
		       "dirty-bit symptom)");
}

int main(int argc, char **argv)
{
	const char *mode = ft_test_arg(argc, argv, "--locking", "upstream");
	const struct ft_locking_mode *locking = ft_locking_mode_find(mode);

	if (!locking) {
		fprintf(stderr, "--locking: unknown mode '%s'\n", mode);
		return FT_EXIT_USAGE;
	}
	if (ft_pmem_init(&pmem, NR_PFNS, ft_mapcount_model_find("owner_slots"), false) ||
	    ft_world_init(&w, &pmem, locking)) {
		fprintf(stderr, "test_memory: out of memory setting up the world\n");
		return FT_EXIT_INVARIANT;
	}
	ft_random_init(&rs, 1, 0, 0, 0);
	ft_ktap_start(66);
	case_lifecycle();
	case_cow();
	case_dontneed();
	case_mprotect();
	case_pinned();
	case_fork_breaks();
	case_gather();
	case_migrate();
	case_pageout();
	case_vmas();
	case_mremap();
	case_mremap_write_batch();
	case_mremap_past_folio();
	case_lazyfree_past_folio();
	case_anon_vma_reuse();
	case_fork_dirty_batch();
	ft_ktap_result(&k, ft_report_failures() == 0 && !pmem.stats.n_bad,
		       "no oracle fired (%llu)", (unsigned long long)ft_report_failures());
	ft_ktap_result(&k, ft_pmem_nr_used_pages(&pmem) == 1,
		       "locking %s: only the zero page is left (%lu pages in use)",
		       mode, ft_pmem_nr_used_pages(&pmem));
	ft_world_destroy(&w);
	ft_pmem_destroy(&pmem);
	return ft_ktap_finish(&k);
}
