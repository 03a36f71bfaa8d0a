// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_gup [--case=NAME] [--inject=NAME]: pin_user_pages_fast() and the
 * pin oracle, single-threaded, each case followed by the audit.
 *
 * Without --case: GUP-fast pins exclusive writable pages (both flavours),
 * falls back to the slow path for an absent page and for a read-only pin
 * of a shared one (unshare); a pinned page stays put through migration
 * (-EBUSY) and fork (copied for the child), and the pin oracle agrees;
 * reclaim's failed lazyfree discard gives no entry a write bit it lacked
 * (B14); bad arguments are refused.  With --case: a negative control of
 * the pin oracle (G1), which must report exactly once:
 *   shared     the pinned page lost AnonExclusive (what a fork racing
 *              GUP-fast without write_protect_seq leaves)
 *   replaced   the process mapped another page at the pinned address (the
 *              oracle asked although the range was zapped, which the
 *              torture never does: the rule itself, without its excuse)
 * --inject=lazyfree-restore-ignores-write is B14's own test: its
 * lazyfree-restore checks and audit must fail.
 */
#include <errno.h>

#include "ft/check.h"
#include "ft/contpte.h"
#include "ft/zoo.h"
#include "mm_test.h"

#define NR_PFNS		(16UL << MAX_PAGE_ORDER)
#define PIN		(FOLL_WRITE | FOLL_LONGTERM)

static struct ft_pmem pmem;
static struct ft_world w;
static struct ft_random_state rs;
static struct ft_ktap k;

static bool coherent(struct mm_struct *mm, unsigned long i, struct page *page)
{
	pte_t pte;

	return ft_pin_coherent(mm, test_va(i), page, &pte);
}

static u64 events(enum vm_event_item item)
{
	return ft_vm_event(&pmem, item);
}

static void audit(const char *what, struct mm_struct **mms, int n)
{
	ft_ktap_result(&k, !ft_audit(&w, mms, n, NULL), "%s: audit clean", what);
}

/* Both flavours: four exclusive writable pages, all by GUP-fast. */
static void case_fast(bool rcu)
{
	struct mm_struct *p = test_new_mm(&w);
	u64 fast = events(GUP_FAST_PIN), slow = events(GUP_SLOW_PIN);
	struct page *pages[4];
	long n;
	bool ok = true;

	w.gup_fast_rcu = rcu;
	w.anon_orders = BIT(0);
	for (unsigned long i = 0; i < 4; i++)
		test_put(p, i, i, &rs);
	n = pin_user_pages_fast(p, test_va(0), 4, PIN, pages);
	for (long i = 0; i < n; i++)
		ok &= coherent(p, (unsigned long)i, pages[i]) &&
		      folio_maybe_dma_pinned(page_folio(pages[i]));
	ft_ktap_result(&k, n == 4 && ok && events(GUP_FAST_PIN) - fast == 4 &&
		       events(GUP_SLOW_PIN) == slow,
		       "fast (%s): 4 pages pinned by GUP-fast, coherent", rcu ? "rcu" : "ipi");
	audit("fast", &p, 1);
	for (long i = 0; i < n; i++)
		unpin_user_page(pages[i]);
	mmput(p);
	w.gup_fast_rcu = true;
}

/* A pinned page stays: migration refuses, fork copies it for the child. */
static void case_stays(void)
{
	struct mm_struct *p = test_new_mm(&w), *c;
	struct page *page;
	bool migrated;

	w.anon_orders = BIT(0);
	test_put(p, 0, 1, &rs);
	test_put(p, 1, 2, &rs);
	if (pin_user_pages_fast(p, test_va(0), 1, PIN, &page) != 1)
		abort();
	migrated = !ft_migrate_at(p, test_va(1), &rs);
	ft_ktap_result(&k, ft_migrate_at(p, test_va(0), &rs) == -EBUSY && migrated &&
		       coherent(p, 0, page),
		       "stays: migration of the pinned page -EBUSY, of its neighbour done");
	c = ft_fork(p);
	ft_ktap_result(&k, c && coherent(p, 0, page) && pte_pfn(test_pte(c, 0)) != page_to_pfn(page) &&
		       pte_pfn(test_pte(c, 1)) == pte_pfn(test_pte(p, 1)),
		       "stays: fork copied the pinned page for the child, shared the other");
	audit("stays", (struct mm_struct *[]){ p, c }, 2);
	unpin_user_page(page);
	mmput(c);
	mmput(p);
}

/* The slow path: an absent page; a read-only pin of a shared one unshares. */
static void case_slow(void)
{
	struct mm_struct *p = test_new_mm(&w), *c;
	u64 slow = events(GUP_SLOW_PIN);
	struct page *absent, *shared;

	w.anon_orders = BIT(0);
	test_put(p, 1, 5, &rs);
	c = ft_fork(p);
	ft_ktap_result(&k, pin_user_pages_fast(p, test_va(0), 1, PIN, &absent) == 1 &&
		       pin_user_pages_fast(p, test_va(1), 1, FOLL_LONGTERM, &shared) == 1 &&
		       events(GUP_SLOW_PIN) - slow == 2 && coherent(p, 0, absent) &&
		       coherent(p, 1, shared) &&
		       pte_pfn(test_pte(c, 1)) != page_to_pfn(shared) && !pte_write(test_pte(p, 1)),
		       "slow: an absent page faulted, a shared one unshared read-only, both pinned");
	audit("slow", (struct mm_struct *[]){ p, c }, 2);
	unpin_user_page(absent);
	unpin_user_page(shared);
	mmput(c);
	mmput(p);
}

/*
 * A read-only pin's unshare, then a fork: the child shares the unshared
 * copy, and a MADV_FREE by the parent alone must not let reclaim discard
 * the child's data.  The copy's entry is dirty, as the 6.18 kernel makes
 * it (wp_page_copy()), so the child's inherited entry keeps the folio.
 */
static void case_unshare_lazyfree(void)
{
	struct mm_struct *p = test_new_mm(&w), *c1, *c2;
	struct page *shared;
	unsigned long v;

	w.anon_orders = BIT(0);
	test_put(p, 0, 0x77, &rs);
	c1 = ft_fork(p);
	if (pin_user_pages_fast(p, test_va(0), 1, FOLL_LONGTERM, &shared) != 1)
		abort();
	unpin_user_page(shared);
	c2 = ft_fork(p);
	ft_madvise_free(p, test_va(0), PAGE_SIZE);
	ft_munmap(p, test_va(0), PAGE_SIZE);
	ft_shrink_lru(&w, 64);
	ft_shrink_lru(&w, 64);
	v = test_get(c2, 0, &rs);
	ft_ktap_result(&k, v == 0x77,
		       "unshare-lazyfree: the child of the unsharing parent reads %#lx "
		       "(0x77) after the parent's MADV_FREE and reclaim", v);
	mmput(c2);
	mmput(c1);
	mmput(p);
}

/*
 * Reclaim's lazyfree batch restored (B14, fixed by 29f40594a281): after a fork whose
 * child exited, the parent reused page 0 of its order-4 folio (writable,
 * exclusive) and not the others (read-only, shared).  MADV_FREE, a write
 * to page 0 (the folio is dirty again), reclaim: the batch is cleared and
 * set back.  Batched from page 0's entry regardless of the write bit, all
 * 16 came back writable, and a write pin of page 1 was taken by GUP-fast
 * on a page that is not AnonExclusive.  Respecting the write bit, the
 * batch stops at page 1 and its pin goes through the fault (reuse).
 */
static void case_lazyfree_restore(void)
{
	struct mm_struct *p = test_new_mm(&w);
	struct page *page;
	bool exclusive, ok;
	u64 slow = events(GUP_SLOW_PIN), redirtied = events(PGLAZYFREE_REDIRTIED);

	w.anon_orders = BIT(4);
	for (unsigned long i = 0; i < 16; i++)
		test_put(p, i, i + 1, &rs);
	mmput(ft_fork(p));
	test_put(p, 0, 0x10, &rs);
	ft_madvise_free(p, test_va(0), 16 * PAGE_SIZE);
	test_put(p, 0, 0x11, &rs);
	ft_shrink_lru(&w, 64);		/* the young bits */
	ft_shrink_lru(&w, 64);		/* the unmap, aborted */
	exclusive = PageAnonExclusive(pfn_to_page(&pmem, pte_pfn(test_pte(p, 1))));
	ft_ktap_result(&k, !pte_write(test_pte(p, 1)) && !exclusive &&
		       pte_write(test_pte(p, 0)) && events(PGLAZYFREE_REDIRTIED) - redirtied == 1,
		       "lazyfree-restore: after the failed discard page 1 is read-only "
		       "(write %d, AnonExclusive %d), page 0 writable",
		       pte_write(test_pte(p, 1)), exclusive);
	ok = pin_user_pages_fast(p, test_va(1), 1, PIN, &page) == 1;
	ft_ktap_result(&k, ok && coherent(p, 1, page) && events(GUP_SLOW_PIN) - slow == 1 &&
		       test_get(p, 1, &rs) == 2 && test_get(p, 0, &rs) == 0x11,
		       "lazyfree-restore: the write pin of page 1 faulted and is coherent");
	audit("lazyfree-restore", &p, 1);
	if (ok)
		unpin_user_page(page);
	w.anon_orders = BIT(0);
	mmput(p);
}

static void case_args(void)
{
	struct mm_struct *p = test_new_mm(&w);
	struct page *page;

	ft_ktap_result(&k, pin_user_pages_fast(p, test_va(0) + 8, 1, PIN, &page) == -EINVAL &&
		       pin_user_pages_fast(p, test_va(0), 1, FOLL_PIN, &page) == -EINVAL &&
		       pin_user_pages_fast(p, test_va(0), 0, PIN, &page) == -EINVAL &&
		       pin_user_pages_fast(p, TEST_TASK_SIZE - PAGE_SIZE, 2, PIN, &page) == -EINVAL &&
		       pin_user_pages_fast(p, TEST_VA - PAGE_SIZE, 1, PIN, &page) == -EFAULT,
		       "args: unaligned, FOLL_PIN given, none, past the end: -EINVAL; no VMA: -EFAULT");
	mmput(p);
}

/* ---- Negative controls ------------------------------------------------------------ */

static void pinned_mm(struct mm_struct **p, struct page **page)
{
	*p = test_new_mm(&w);
	w.anon_orders = BIT(0);
	test_put(*p, 0, 1, &rs);
	if (pin_user_pages_fast(*p, test_va(0), 1, PIN, page) != 1)
		abort();
}

static void check(struct mm_struct *p, struct page *page)
{
	pte_t pte;

	if (!ft_pin_coherent(p, test_va(0), page, &pte))
		ft_pin_report(p, test_va(0), page, pte);
}

static void case_shared(void)
{
	struct mm_struct *p;
	struct page *page;

	pinned_mm(&p, &page);
	ClearPageAnonExclusive(page);
	check(p, page);
	SetPageAnonExclusive(page);
	unpin_user_page(page);
	mmput(p);
}

static void case_replaced(void)
{
	struct mm_struct *p;
	struct page *page;

	pinned_mm(&p, &page);
	if (ft_madvise_dontneed(p, test_va(0), PAGE_SIZE))
		abort();
	test_put(p, 0, 2, &rs);
	check(p, page);
	unpin_user_page(page);
	mmput(p);
}

static const struct {
	const char *name;
	void (*fn)(void);
} controls[] = {
	{ "shared", case_shared },
	{ "replaced", case_replaced },
};

int main(int argc, char **argv)
{
	const char *name = ft_test_arg(argc, argv, "--case", NULL);
	const char *inject = ft_test_arg(argc, argv, "--inject", NULL);

	if (ft_pmem_init(&pmem, NR_PFNS, ft_mapcount_model_find("owner_slots"), false) ||
	    ft_world_init(&w, &pmem, ft_locking_mode_find("upstream"))) {
		fprintf(stderr, "test_gup: out of memory setting up the world\n");
		return FT_EXIT_INVARIANT;
	}
	w.gup_fast_rcu = true;
	ft_random_init(&rs, 1, 0, 0, 0);
	if (inject && ft_inject_enable(inject)) {
		fprintf(stderr, "test_gup: unknown --inject '%s'\n", inject);
		return FT_EXIT_USAGE;
	}
	if (name) {
		for (size_t i = 0; i < ARRAY_SIZE(controls); i++) {
			if (strcmp(name, controls[i].name))
				continue;
			controls[i].fn();
			ft_ktap_start(1);
			ft_ktap_result(&k, ft_report_failures() == 1 &&
				       !strcmp(ft_report_first(), "pin coherence"),
				       "%s: %llu reports (expected 1, pin coherence)", name,
				       (unsigned long long)ft_report_failures());
			ft_world_destroy(&w);
			ft_pmem_destroy(&pmem);
			return ft_ktap_finish(&k);
		}
		fprintf(stderr, "test_gup: unknown --case '%s'\n", name);
		return FT_EXIT_USAGE;
	}
	ft_ktap_start(16);
	case_fast(true);
	case_fast(false);
	case_stays();
	case_slow();
	case_unshare_lazyfree();
	case_lazyfree_restore();
	case_args();
	ft_ktap_result(&k, ft_report_failures() == 0 && !pmem.stats.n_bad,
		       "no oracle fired (%llu)", (unsigned long long)ft_report_failures());
	ft_ktap_result(&k, ft_pmem_nr_used_pages(&pmem) == 1,
		       "only the zero page is left (%lu pages in use)",
		       ft_pmem_nr_used_pages(&pmem));
	ft_world_destroy(&w);
	ft_pmem_destroy(&pmem);
	return ft_ktap_finish(&k);
}
