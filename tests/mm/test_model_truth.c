// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_model_truth --model=NAME: the counters --compare-models reads, on a
 * sequence where the mapcount models differ.
 *
 * A faults an order-4 folio, B forks from A and C from B: A and B hold
 * the slots, C is untracked.  A and B exit, so C alone maps the folio
 * (still "maybe shared": the cover letter's false positive, in both
 * models).  Migration unmaps it entirely and maps it back for C.  The
 * merged rules free the slots at the full unmap and let C take one
 * without the flag; v1's take a free slot only on an exclusive folio and
 * clear "mapped exclusively" as they do, so C alone maps a folio v1 calls
 * shared.  The audit then counts a false positive under v1 only, and C's
 * write is a reuse under the merged rules, an avoidable copy under v1.
 * rmap_id, exact while the folio is mapped at most 16 times, never calls
 * C's folio shared: it answers as the merged rules do here.
 *
 * KTAP: the audit's truth counts and the COW events, with the expectation
 * stated per model, so both the counting and the difference are tested.
 */
#include "ft/check.h"
#include "mm_test.h"

#define NR_PFNS		(16UL << MAX_PAGE_ORDER)

static struct ft_pmem pmem;
static struct ft_world w;

int main(int argc, char **argv)
{
	const char *name = ft_test_arg(argc, argv, "--model", "owner_slots");
	const struct ft_mapcount_ops *model = ft_mapcount_model_find(name);
	struct mm_struct *a, *b, *c;
	struct ft_audit_stats st;
	struct ft_random_state rs;
	struct ft_ktap k = { 0 };
	bool v1, bad;
	u64 copies, avoidable, reuses;

	if (!model) {
		fprintf(stderr, "--model: unknown model '%s'\n", name);
		return FT_EXIT_USAGE;
	}
	if (ft_pmem_init(&pmem, NR_PFNS, model, false) ||
	    ft_world_init(&w, &pmem, ft_locking_mode_find("upstream"))) {
		fprintf(stderr, "test_model_truth: out of memory setting up the world\n");
		return FT_EXIT_INVARIANT;
	}
	v1 = !strcmp(model->name, "owner_slots_v1");
	ft_random_init(&rs, 1, 0, 0, 0);
	ft_ktap_start(4);
	a = test_new_mm(&w);
	w.anon_orders = BIT(4);
	test_put(a, 0, 0x700, &rs);
	b = ft_fork(a);
	c = ft_fork(b);
	mmput(a);
	mmput(b);
	if (ft_migrate_at(c, test_va(0), &rs))
		abort();
	bad = ft_audit(&w, &c, 1, &st);
	ft_ktap_result(&k, !bad && st.shared_checked == 1 && !st.false_negatives &&
		       st.false_positives == (v1 ? 1 : 0),
		       "%s: audit: %llu checked, %llu false positives (%d), %llu false negatives",
		       name, (unsigned long long)st.shared_checked,
		       (unsigned long long)st.false_positives, v1 ? 1 : 0,
		       (unsigned long long)st.false_negatives);
	copies = ft_vm_event(&pmem, COW_LARGE_COPY);
	avoidable = ft_vm_event(&pmem, COW_LARGE_COPY_AVOIDABLE);
	reuses = ft_vm_event(&pmem, COW_LARGE_REUSE);
	test_put(c, 0, 0x701, &rs);
	ft_ktap_result(&k, ft_vm_event(&pmem, COW_LARGE_COPY) - copies == (v1 ? 1 : 0) &&
		       ft_vm_event(&pmem, COW_LARGE_COPY_AVOIDABLE) - avoidable == (v1 ? 1 : 0) &&
		       ft_vm_event(&pmem, COW_LARGE_REUSE) - reuses == (v1 ? 0 : 1),
		       "%s: C's write %s", name, v1 ? "copies, avoidably" : "reuses the folio");
	ft_ktap_result(&k, ft_vm_event(&pmem, MAPCOUNT_UPDATE) > 0,
		       "%s: %llu mapcount updates counted", name,
		       (unsigned long long)ft_vm_event(&pmem, MAPCOUNT_UPDATE));
	mmput(c);
	ft_ktap_result(&k, ft_report_failures() == 0 && ft_pmem_nr_used_pages(&pmem) == 1,
		       "no oracle fired, only the zero page is left");
	ft_world_destroy(&w);
	ft_pmem_destroy(&pmem);
	return ft_ktap_finish(&k);
}
