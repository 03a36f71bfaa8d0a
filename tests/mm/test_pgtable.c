// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_pgtable: the arm64 PTE helpers (asm/pgtable.h), the hardware
 * walker's answers, the TLB (--tlb: a translation outlives its PTE until a
 * flush of its page, or of 64 pages or more) and its oracle (a translation
 * that a returned munmap should have flushed), and table allocation: threads
 * racing to populate one pmd install exactly one table,
 * pte_offset_map_lock() finds no table where none was installed, a PTE
 * pointer finds its own table's PTL, and an entry remembers which
 * operation last cleared it.
 */
#include <pthread.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "ft/contpte.h"
#include "mm_test.h"

#define NR_PFNS		(2UL << MAX_PAGE_ORDER)
#define NR_RACERS	4

static struct ft_pmem pmem;
static struct mm_id_space ids;
static struct test_mm t;
static struct ft_world w = { .tlb = true };	/* the TLB's switch only */

static void test_helpers(struct ft_ktap *k)
{
	pte_t clean = pfn_pte(42, PAGE_SHARED);
	pte_t hw = clear_pte_bit(clean, PTE_RDONLY);	/* what the MMU does */
	pte_t wp = pte_wrprotect(hw);

	ft_ktap_result(k, pte_write(clean) && pte_rdonly(clean) && !pte_dirty(clean),
		       "PAGE_SHARED: writable (DBM), RDONLY, clean");
	ft_ktap_result(k, pte_hw_dirty(hw) && pte_dirty(hw) && !pte_sw_dirty(hw),
		       "hardware dirty: WRITE and !RDONLY");
	ft_ktap_result(k, !pte_write(wp) && pte_rdonly(wp) && pte_sw_dirty(wp) &&
		       pte_dirty(wp), "pte_wrprotect carries hw dirty into sw dirty");
	ft_ktap_result(k, !pte_dirty(pte_mkclean(hw)) && pte_rdonly(pte_mkclean(hw)),
		       "pte_mkclean sets RDONLY and drops both dirties");
	ft_ktap_result(k, pte_hw_dirty(pte_mkdirty(clean)) &&
		       pte_rdonly(pte_mkdirty(pte_wrprotect(clean))),
		       "pte_mkdirty clears RDONLY only when writable");
	ft_ktap_result(k, pte_hw_dirty(pte_mkwrite_novma(wp)) &&
		       pte_rdonly(pte_mkwrite_novma(pte_wrprotect(clean))),
		       "pte_mkwrite_novma: hw dirty again only if sw dirty");
	ft_ktap_result(k, pte_dirty(pte_modify(hw, PAGE_READONLY)) &&
		       !pte_write(pte_modify(hw, PAGE_READONLY)) &&
		       pte_hw_dirty(pte_modify(pte_modify(hw, PAGE_READONLY), PAGE_SHARED)),
		       "pte_modify keeps dirty across a permission round trip");
	ft_ktap_result(k, pte_pfn(pte_advance_pfn(clean, 3)) == 45 &&
		       pgprot_val(pte_pgprot(pte_advance_pfn(clean, 3))) ==
		       pgprot_val(PAGE_SHARED), "pte_advance_pfn keeps the prot");
	ft_ktap_result(k, pte_present(pfn_pte(1, PAGE_NONE)) &&
		       !pte_valid(pfn_pte(1, PAGE_NONE)) && pte_none(__pte(0)),
		       "PAGE_NONE is present but not valid; zero is none");
}

static void test_hw(struct ft_ktap *k)
{
	struct folio *f = folio_alloc(&pmem, 0, NULL);
	unsigned long va = 3 * PMD_SIZE + 5 * PAGE_SIZE, pfn = 0;
	pmd_t *pmd = pmd_off(&t.mm, va);
	spinlock_t *ptl;
	pte_t *ptep;

	ft_ktap_result(k, ft_hw_access(&t.mm, va, false, NULL, &pfn) == FT_HW_FAULT_NONE &&
		       !pte_offset_map_lock(&t.mm, pmd, va, &ptl),
		       "no table: the MMU faults and pte_offset_map_lock finds none");
	__pte_alloc(&t.mm, pmd, va);
	ptep = pte_offset_map_lock(&t.mm, pmd, va, &ptl);
	ft_ktap_result(k, ptep && ptl == pte_lockptr(ptep),
		       "a PTE pointer finds its table's PTL");
	set_pte_at(&t.mm, va, ptep, pte_mkold(pfn_pte(folio_pfn(f), PAGE_READONLY)));
	pte_unmap_unlock(ptep, ptl);
	ft_ktap_result(k, ft_hw_access(&t.mm, va, false, NULL, &pfn) == FT_HW_OK &&
		       pfn == folio_pfn(f) && pte_young(__ptep_get(ptep)),
		       "a read sets AF and returns the pfn");
	ft_ktap_result(k, ft_hw_access(&t.mm, va, true, NULL, &pfn) == FT_HW_FAULT_PERM,
		       "a write to a read-only entry is a permission fault");
	spin_lock(ptl);
	set_pte_at(&t.mm, va, ptep, pfn_pte(folio_pfn(f), PAGE_SHARED));
	spin_unlock(ptl);
	ft_ktap_result(k, ft_hw_access(&t.mm, va, true, NULL, &pfn) == FT_HW_OK &&
		       pte_hw_dirty(__ptep_get(ptep)),
		       "a write through a DBM entry makes it hardware dirty");
	ft_ktap_result(k, ft_hw_access(&t.mm, t.mm.task_size, false, NULL, &pfn) ==
		       FT_HW_FAULT_NONE, "beyond task_size: fault");
	spin_lock(ptl);
	ptep_get_and_clear(&t.mm, va, ptep);
	spin_unlock(ptl);
	folio_put(f);
}

/* A user store of @v at @va: the fault type, FT_HW_OK if it landed. */
static enum ft_hw_result store(unsigned long va, unsigned long v)
{
	return ft_hw_access_data(&t.mm, va, true, NULL, &v);
}

static void wrprotect(unsigned long va, pte_t *ptep)
{
	spinlock_t *ptl = pte_lockptr(ptep);

	spin_lock(ptl);
	ptep_set_wrprotect(&t.mm, va, ptep);
	spin_unlock(ptl);
}

static void make_writable(unsigned long va, pte_t *ptep, struct folio *f)
{
	spinlock_t *ptl = pte_lockptr(ptep);

	spin_lock(ptl);
	set_pte_at(&t.mm, va, ptep, pfn_pte(folio_pfn(f), PAGE_SHARED));
	spin_unlock(ptl);
}

/* Which window one access published: @kind, and no other. */
static struct ft_sched win_sched = { .policy = FT_BREAK_POLICY_NEVER, .no_yield = true };

static bool published_only(enum ft_window_kind kind)
{
	bool only = win_sched.n_windows[kind] == 1;

	for (int i = 0; i < NR_FT_WINDOWS; i++)
		only = only && (i == (int)kind || !win_sched.n_windows[i]);
	memset(win_sched.n_windows, 0, sizeof(win_sched.n_windows));
	return only;
}

static void test_tlb(struct ft_ktap *k)
{
	struct folio *f = folio_alloc(&pmem, 0, NULL);
	unsigned long va = 5 * PMD_SIZE + 3 * PAGE_SIZE, other = va + PAGE_SIZE, v;
	pmd_t *pmd = pmd_off(&t.mm, va);
	pte_t *ptep;
	bool live, stale, read;

	__pte_alloc(&t.mm, pmd, va);
	ptep = &pmdp_get_lockless(pmd)->ptes[pte_index(va)];
	make_writable(va, ptep, f);
	ft_sched_set_current(&win_sched);
	ft_ktap_result(k, store(va, 1) == FT_HW_OK && f->page[0].data[0] == 1,
		       "tlb: a store fills a writable translation");
	live = published_only(FT_WIN_HW_ACCESS);
	wrprotect(va, ptep);
	ft_ktap_result(k, store(va, 2) == FT_HW_OK && f->page[0].data[0] == 2,
		       "tlb: write-protected, not flushed: the store still lands (Z14)");
	stale = published_only(FT_WIN_STALE_STORE);
	read = ft_hw_access_data(&t.mm, va, false, NULL, &v) == FT_HW_OK && v == 2 &&
	       published_only(FT_WIN_HW_ACCESS);
	ft_sched_set_current(NULL);
	ft_ktap_result(k, live && stale && read,
		       "tlb: that store publishes a stale_store window (%d), not an "
		       "access's; one before the write-protect an access's (%d), and "
		       "so does a load through the same translation (%d)", stale, live,
		       read);
	flush_tlb_range(&t.mm, other, other + PAGE_SIZE);
	ft_ktap_result(k, store(va, 3) == FT_HW_OK,
		       "tlb: a flush of another page keeps the translation");
	flush_tlb_range(&t.mm, va, va + PAGE_SIZE);
	ft_ktap_result(k, store(va, 4) == FT_HW_FAULT_PERM && f->page[0].data[0] == 3,
		       "tlb: a flush of its page drops it: permission fault");
	make_writable(va, ptep, f);
	store(va, 5);
	wrprotect(va, ptep);
	flush_tlb_range(&t.mm, va + PMD_SIZE, va + PMD_SIZE + FT_TLB_VA_GENS * PAGE_SIZE);
	ft_ktap_result(k, store(va, 6) == FT_HW_FAULT_PERM,
		       "tlb: a flush of %d pages elsewhere flushes the whole mm",
		       FT_TLB_VA_GENS);
	w.tlb = false;
	make_writable(va, ptep, f);
	store(va, 7);
	wrprotect(va, ptep);
	ft_ktap_result(k, store(va, 8) == FT_HW_FAULT_PERM,
		       "no tlb: every access walks the page table");
	spin_lock(pte_lockptr(ptep));
	ptep_get_and_clear(&t.mm, va, ptep);
	spin_unlock(pte_lockptr(ptep));
	folio_put(f);
}

/*
 * The TLB oracle (T11, doc/invariants.md): a translation cached before a
 * munmap or MADV_DONTNEED of its page began, used after that call
 * returned, is a missed flush; one flushed by it is gone.  The "call" here clears the
 * entry behind the model's back, with and without the flush.
 */
static void test_tlb_oracle(struct ft_ktap *k)
{
	struct folio *f = folio_alloc(&pmem, 0, NULL);
	unsigned long va = 6 * PMD_SIZE + 9 * PAGE_SIZE;
	pmd_t *pmd = pmd_off(&t.mm, va);
	u64 before = ft_report_failures(), since;
	pte_t *ptep;

	__pte_alloc(&t.mm, pmd, va);
	ptep = &pmdp_get_lockless(pmd)->ptes[pte_index(va)];
	for (int flush = 1; flush >= 0; flush--) {
		make_writable(va, ptep, f);
		store(va, 1);				/* fills the translation */
		since = ft_tlb_call_begin(&t.mm);
		spin_lock(pte_lockptr(ptep));
		ptep_get_and_clear(&t.mm, va, ptep);
		spin_unlock(pte_lockptr(ptep));
		if (flush)
			flush_tlb_range(&t.mm, va, va + PAGE_SIZE);
		ft_tlb_done(&t.mm, va, va + PAGE_SIZE, FT_TLB_UNMAPPED, since);
		ft_ktap_result(k, flush ? store(va, 2) == FT_HW_FAULT_NONE &&
				   ft_report_failures() == before :
				   store(va, 3) == FT_HW_OK && ft_report_failures() == before + 1 &&
				   ft_hw_stale_translation(),
			       flush ? "tlb oracle: a call that flushed leaves nothing to report" :
			       "tlb oracle: a stale translation used after the call returned is "
			       "reported");
	}
	ft_report_reset();
	flush_tlb_mm(&t.mm);
	folio_put(f);
}

/*
 * Another CPU's work, run the first time the clock is read after it is
 * set: a CPU delayed right after that read lets it in.  The test binary's
 * clock_gettime() takes the place of the C library's for the model too.
 */
static void (*after_clock_read)(void);

int clock_gettime(clockid_t id, struct timespec *ts)
{
	void (*delayed)(void) = after_clock_read;
	int ret = (int)syscall(SYS_clock_gettime, id, ts);

	after_clock_read = NULL;
	if (delayed)
		delayed();
	return ret;
}

static struct {
	unsigned long va;
	pte_t *ptep;
	struct folio *f;
} refault;

/* A munmap that finds the entry none (nothing to flush), then a fault. */
static void munmap_then_refault(void)
{
	u64 since = ft_tlb_call_begin(&t.mm);

	ft_tlb_done(&t.mm, refault.va, refault.va + PAGE_SIZE, FT_TLB_UNMAPPED, since);
	make_writable(refault.va, refault.ptep, refault.f);
}

/*
 * A false report of a 30-minute tlb-zap run: a store began while its page
 * was unmapped, and its CPU was delayed before the walk while a munmap
 * found the entry none and another thread faulted the page in again.  The
 * walk cached the new entry, which no flush owes anything to; stamped with
 * a time read before the walk, it looked older than the munmap.
 */
static void test_tlb_oracle_delayed_walk(struct ft_ktap *k)
{
	u64 before = ft_report_failures();
	pmd_t *pmd;

	refault.va = 6 * PMD_SIZE + 20 * PAGE_SIZE;
	refault.f = folio_alloc(&pmem, 0, NULL);
	pmd = pmd_off(&t.mm, refault.va);
	__pte_alloc(&t.mm, pmd, refault.va);
	refault.ptep = &pmdp_get_lockless(pmd)->ptes[pte_index(refault.va)];
	after_clock_read = munmap_then_refault;
	if (store(refault.va, 1) != FT_HW_OK) {
		/* The walk found none before any clock read: the same events,
		 * then the store again. */
		after_clock_read = NULL;
		munmap_then_refault();
		store(refault.va, 1);
	}
	ft_ktap_result(k, store(refault.va, 2) == FT_HW_OK &&
		       ft_report_failures() == before,
		       "tlb oracle: a walk delayed past a munmap that found nothing, "
		       "caching the entry mapped after it, is not reported");
	ft_report_reset();
	spin_lock(pte_lockptr(refault.ptep));
	ptep_get_and_clear(&t.mm, refault.va, refault.ptep);
	spin_unlock(pte_lockptr(refault.ptep));
	flush_tlb_mm(&t.mm);
	folio_put(refault.f);
}

static struct ptdesc *seen[NR_RACERS];

static void *racer(void *arg)
{
	long i = (long)arg;
	pmd_t *pmd = pmd_off(&t.mm, 7 * PMD_SIZE);

	__pte_alloc(&t.mm, pmd, 7 * PMD_SIZE);
	seen[i] = pmdp_get_lockless(pmd);
	return NULL;
}

static void test_alloc_race(struct ft_ktap *k)
{
	pthread_t th[NR_RACERS];
	bool same = true;

	for (long i = 0; i < NR_RACERS; i++)
		pthread_create(&th[i], NULL, racer, (void *)i);
	for (int i = 0; i < NR_RACERS; i++)
		pthread_join(th[i], NULL);
	for (int i = 1; i < NR_RACERS; i++)
		same = same && seen[i] == seen[0];
	ft_ktap_result(k, seen[0] && same && seen[0]->mm == &t.mm &&
		       seen[0]->addr == 7 * PMD_SIZE,
		       "%d threads populating one pmd: one table installed", NR_RACERS);
}

/* @va's last-clear line, in @buf. */
static void last_clear(unsigned long va, char *buf, size_t len)
{
	FILE *f = fmemopen(buf, len, "w");

	pte_print_last_clear(f, &t.mm, va);
	fclose(f);
}

/* The page-table trace: who last took an entry's value away, and where. */
static void test_clear_note(struct ft_ktap *k)
{
	unsigned long va = 7 * PMD_SIZE + 2 * PAGE_SIZE;
	pmd_t *pmd = pmd_off(&t.mm, va);
	char buf[512];
	spinlock_t *ptl;
	pte_t *ptep;

	__pte_alloc(&t.mm, pmd, va);
	ptep = pte_offset_map_lock(&t.mm, pmd, va, &ptl);
	last_clear(va, buf, sizeof(buf));
	ft_ktap_result(k, strstr(buf, "never cleared") != NULL, "a new entry was never cleared");
	ft_set_actor(3, 7, "migrate");
	set_pte_at(&t.mm, va, ptep, pfn_pte(0x42, PAGE_READONLY));
	ptep_get_and_clear(&t.mm, va, ptep);
	ft_set_actor(1, 9, "read");
	ptep_get_and_clear(&t.mm, va, ptep);	/* nothing there: no note */
	pte_unmap_unlock(ptep, ptl);
	ft_set_actor(0, 0, NULL);
	last_clear(va, buf, sizeof(buf));
	ft_ktap_result(k, strstr(buf, "ft-3's migrate (operation #7)") &&
		       strstr(buf, "pfn:0x42") &&
		       (!lockdep_enabled() || strstr(buf, "test_pgtable.c:")),
		       "the last clear names its operation, its PTL's site and the value");
}

int main(void)
{
	struct ft_ktap k = { 0 };

	if (ft_pmem_init(&pmem, NR_PFNS, ft_mapcount_model_find("owner_slots"), false) ||
	    mm_id_space_init(&ids, MM_ID_MAX) || test_mm_init(&t, &ids))
		return FT_EXIT_USAGE;
	t.mm.world = &w;	/* with --tlb: the oracle's tables too */
	if (mm_pgtables_init(&t.mm, &pmem, 16 * PMD_SIZE))
		return FT_EXIT_USAGE;
	ft_ktap_start(29);
	test_helpers(&k);
	test_hw(&k);
	test_tlb_oracle(&k);
	test_tlb_oracle_delayed_walk(&k);
	test_tlb(&k);
	test_alloc_race(&k);
	test_clear_note(&k);
	ft_ktap_result(&k, ft_report_failures() == 0, "no oracle fired");
	free_pgtables(&t.mm);
	mm_id_space_destroy(&ids);
	ft_pmem_destroy(&pmem);
	return ft_ktap_finish(&k);
}
