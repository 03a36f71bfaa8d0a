// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_bad_swap_entry: the "bad swap entry" oracle on the entry that the
 * batch-over-hole injection's fork leaves.
 *
 * An order-2 folio is written, MADV_DONTNEED makes a hole at its page 2,
 * and the process forks with the injection: the batch, sized from the
 * folio, covers the hole, and fork's write-protect turns the none entry
 * into PTE_RDONLY alone, which is neither present, a migration entry nor
 * a swap entry.  Upstream reads it as an entry of a swap device that does
 * not exist.  Each place that meets it must say so once: a fault (which
 * used to wait for ever, as if on a migration entry), a second fork, and
 * the zap at exit.  The child's exit then reports bad page state, the
 * copy's other damage.
 */
#include "ft/zoo.h"
#include "mm_test.h"

#define NR_PFNS		(4UL << MAX_PAGE_ORDER)

static struct ft_pmem pmem;
static struct ft_world w;
static struct ft_ktap k;

/* Run @fn and tell whether it made exactly one report. */
#define ONE_REPORT(fn) ({					\
	u64 before = ft_report_failures();			\
	fn;							\
	ft_report_failures() == before + 1;			\
})

int main(void)
{
	struct mm_struct *parent, *child, *second;
	struct ft_random_state rs;
	unsigned long v = 0;
	enum ft_fault_result res = FT_FAULT_OK;
	bool ok;

	if (ft_pmem_init(&pmem, NR_PFNS, ft_mapcount_model_find("owner_slots"), false) ||
	    ft_world_init(&w, &pmem, ft_locking_mode_find("upstream"))) {
		fprintf(stderr, "test_bad_swap_entry: out of memory setting up the world\n");
		return FT_EXIT_INVARIANT;
	}
	ft_random_init(&rs, 1, 0, 0, 0);
	ft_ktap_start(6);
	parent = test_new_mm(&w);
	w.anon_orders = BIT(2);
	test_put(parent, 0, 0x100, &rs);
	ft_madvise_dontneed(parent, test_va(2), PAGE_SIZE);
	if (ft_inject_enable("batch-over-hole"))
		abort();
	child = ft_fork(parent);
	ft_inject_clear();
	ft_ktap_result(&k, pte_val(test_pte(parent, 2)) == pte_val(pte_wrprotect(__pte(0))) &&
		       ft_report_failures() == 0,
		       "the injected fork write-protects the hole: entry %#llx, no report yet",
		       (unsigned long long)pte_val(test_pte(parent, 2)));
	ok = ONE_REPORT(res = ft_user_access(parent, test_va(2), false, &v, &rs));
	ft_ktap_result(&k, ok && res == FT_FAULT_SIGSEGV,
		       "a fault on it reports it once and fails the access");
	ok = ONE_REPORT(second = ft_fork(parent));
	ft_ktap_result(&k, ok && pte_none(test_pte(second, 2)),
		       "fork reports it once and does not copy it");
	ft_ktap_result(&k, ONE_REPORT(mmput(parent)), "the zap at exit reports it once");
	mmput(second);
	/* The injection's other damage: the child mapped page 2 through the
	 * hole without raising _nr_pages_mapped, which its exit underflows. */
	ft_ktap_result(&k, ONE_REPORT(mmput(child)),
		       "the child's exit reports the folio's bad page state once");
	ft_ktap_result(&k, ft_pmem_nr_used_pages(&pmem) == 1,
		       "only the zero page is left (%lu pages in use)",
		       ft_pmem_nr_used_pages(&pmem));
	ft_world_destroy(&w);
	ft_pmem_destroy(&pmem);
	return ft_ktap_finish(&k);
}
