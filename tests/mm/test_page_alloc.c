// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_page_alloc [--case=NAME]: physical memory and folios.
 *
 * Without --case: the positive tests (alignment, initial state, buddy
 * merging, exhaustion, failure injection, pins).  With --case: one negative
 * control, whose report ctest checks (bad page state for each field the
 * free path checks, write after free, use after free, underflow).
 */
#include "mm_test.h"

#define NR_PFNS		(8UL << MAX_PAGE_ORDER)	/* 16 MB */

static struct ft_pmem pmem;
static struct mm_id_space ids;

static bool folio_is_fresh(struct folio *folio, unsigned int order)
{
	bool ok = folio_order(folio) == order && folio_ref_count(folio) == 1 &&
		  folio_pfn(folio) % (1UL << order) == 0 &&
		  !folio_mapped(folio) && !folio_test_anon(folio);

	for (unsigned long i = 0; i < folio_nr_pages(folio); i++) {
		struct page *page = folio_page(folio, i);

		ok = ok && page_folio(page) == folio && page->data[0] == 0 && page->data[1] == 0 &&
		     atomic_read(&page->_mapcount) == -1 && !PageAnonExclusive(page);
	}
	if (order)
		ok = ok && atomic_read(&folio->_large_mapcount) == -1 &&
		     atomic_read(&folio->_entire_mapcount) == -1 &&
		     !atomic_read(&folio->_nr_pages_mapped) &&
		     !atomic_read(&folio->_pincount) && folio->_mm_ids == 0 &&
		     folio->_mm_id_mapcount[0] == -1 && folio->_mm_id_mapcount[1] == -1;
	return ok;
}

static void test_alignment(struct ft_ktap *k)
{
	bool ok = true;

	for (unsigned int order = 0; order <= MAX_PAGE_ORDER; order++) {
		struct folio *f[4];

		for (int i = 0; i < 4; i++) {
			f[i] = folio_alloc(&pmem, order, NULL);
			ok = ok && f[i] && folio_is_fresh(f[i], order);
		}
		for (int i = 0; i < 4; i++)
			if (f[i])
				folio_put(f[i]);
	}
	ft_ktap_result(k, ok, "orders 0..9: naturally aligned, initial state per prep_compound_head()");
	ft_ktap_result(k, ft_pmem_nr_used_pages(&pmem) == 0, "all freed");
}

/* Fill memory with order-0 folios, free them, and get max-order ones back. */
static void test_exhaust_and_merge(struct ft_ktap *k)
{
	struct folio **all = calloc(NR_PFNS + 1, sizeof(*all));
	unsigned long n = 0, big = 0;
	struct folio *f;

	while ((f = folio_alloc(&pmem, 0, NULL)))
		all[n++] = f;
	ft_ktap_result(k, n == NR_PFNS && ft_pmem_nr_used_pages(&pmem) == NR_PFNS,
		       "exhaustion: %lu order-0 folios of %lu pfns", n, NR_PFNS);
	ft_ktap_result(k, !folio_alloc(&pmem, 0, NULL), "allocation fails when full");
	for (unsigned long i = 0; i < n; i += 2)	/* even pfns first: no merges */
		folio_put(all[i]);
	for (unsigned long i = 1; i < n; i += 2)
		folio_put(all[i]);
	while ((f = folio_alloc(&pmem, MAX_PAGE_ORDER, NULL)))
		all[big++] = f;
	ft_ktap_result(k, big == NR_PFNS >> MAX_PAGE_ORDER,
		       "buddies merge back into %lu order-9 blocks", big);
	for (unsigned long i = 0; i < big; i++)
		folio_put(all[i]);
	free(all);
}

static void test_fail_injection(struct ft_ktap *k)
{
	struct ft_random_state rs;
	int failed = 0;
	struct folio *f;

	ft_random_init(&rs, 1, 2, 3, 4);
	pmem.fail_ppm[4] = 1000000;
	f = folio_alloc(&pmem, 4, &rs);
	ft_ktap_result(k, !f, "fail_ppm=100%%: order 4 fails");
	f = folio_alloc(&pmem, 2, &rs);
	ft_ktap_result(k, f != NULL, "other orders unaffected");
	folio_put(f);
	f = folio_alloc(&pmem, 4, NULL);
	ft_ktap_result(k, f != NULL, "no random stream, no injection");
	folio_put(f);
	pmem.fail_ppm[4] = 250000;
	for (int i = 0; i < 4000; i++) {
		f = folio_alloc(&pmem, 4, &rs);
		if (f)
			folio_put(f);
		else
			failed++;
	}
	ft_ktap_result(k, failed > 800 && failed < 1200,
		       "fail_ppm=25%%: %d of 4000 failed", failed);
	pmem.fail_ppm[4] = 0;
}

static void test_pins(struct ft_ktap *k)
{
	struct folio *big = folio_alloc(&pmem, 3, NULL);
	struct folio *small = folio_alloc(&pmem, 0, NULL);

	try_grab_folio(big, 2, FOLL_PIN);
	try_grab_folio(small, 1, FOLL_PIN);
	ft_ktap_result(k, atomic_read(&big->_pincount) == 2 &&
		       folio_ref_count(big) == 3 && folio_maybe_dma_pinned(big),
		       "large pin: _pincount and refcount");
	ft_ktap_result(k, folio_ref_count(small) == 1 + GUP_PIN_COUNTING_BIAS &&
		       folio_maybe_dma_pinned(small), "small pin: refcount bias");
	gup_put_folio(big, 2, FOLL_PIN);
	gup_put_folio(small, 1, FOLL_PIN);
	ft_ktap_result(k, !folio_maybe_dma_pinned(big) && !folio_maybe_dma_pinned(small) &&
		       folio_ref_count(big) == 1 && folio_ref_count(small) == 1,
		       "unpinned");
	folio_put(big);
	folio_put(small);
}

/* ---- Negative controls: each must produce one report ---------------------------- */

static struct folio *mapped_folio(unsigned int order)
{
	static struct test_mm t;
	struct folio *folio = folio_alloc(&pmem, order, NULL);

	test_mm_init(&t, &ids);
	folio_ref_add(folio, (int)folio_nr_pages(folio) - 1);
	folio_add_new_anon_rmap(folio, &t.vma, test_addr(folio, 0), RMAP_EXCLUSIVE);
	return folio;
}

static void case_free_mapped(void)
{
	struct folio *folio = mapped_folio(4);

	folio_put_refs(folio, 16);	/* the rmap was never removed */
}

static void case_free_mapped_small(void)
{
	folio_put(mapped_folio(0));
}

static void case_free_pinned(void)
{
	struct folio *folio = folio_alloc(&pmem, 2, NULL);

	atomic_set(&folio->_pincount, 1);	/* a pin without its reference */
	folio_put(folio);
}

static void case_free_slot(void)
{
	struct folio *folio = folio_alloc(&pmem, 2, NULL);

	WRITE_ONCE(folio->_mm_id_mapcount[1], 0);
	folio_put(folio);
}

static void case_free_queued(void)
{
	struct folio *folio = folio_alloc(&pmem, 4, NULL);

	/* Queue it as if partially mapped, but the mapcounts are clean: the
	 * free path unqueues it (folios_put_refs does), so no report. */
	deferred_split_folio(folio, true);
	folio_put(folio);
}

static void case_write_after_free(void)
{
	struct folio *folio = folio_alloc(&pmem, 0, NULL);
	struct page *page = folio->page;

	folio_put(folio);
	WRITE_ONCE(page->data[1], 42);	/* a stale user writes */
	while (folio_alloc(&pmem, 0, NULL))
		;
}

static void case_use_after_free(void)
{
	struct folio *folio = folio_alloc(&pmem, 3, NULL);

	folio_put(folio);
	folio_get(folio);
}

static void case_double_put(void)
{
	struct folio *folio = folio_alloc(&pmem, 0, NULL);

	folio_put(folio);
	folio_put(folio);
}

static const struct {
	const char *name;
	void (*fn)(void);
	u64 expect_reports;
} cases[] = {
	{ "free_mapped", case_free_mapped, 1 },
	{ "free_mapped_small", case_free_mapped_small, 1 },
	{ "free_pinned", case_free_pinned, 1 },
	{ "free_slot", case_free_slot, 1 },
	{ "free_queued_ok", case_free_queued, 0 },
	{ "write_after_free", case_write_after_free, 1 },
	{ "use_after_free", case_use_after_free, 1 },
	{ "double_put", case_double_put, 1 },
};

int main(int argc, char **argv)
{
	const char *name = ft_test_arg(argc, argv, "--case", NULL);
	const struct ft_mapcount_ops *mc = ft_mapcount_model_find("owner_slots");
	struct ft_ktap k = { 0 };

	if (ft_pmem_init(&pmem, NR_PFNS, mc, false) || mm_id_space_init(&ids, 100))
		return FT_EXIT_USAGE;
	if (name) {
		for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
			if (strcmp(name, cases[i].name))
				continue;
			cases[i].fn();
			ft_ktap_start(1);
			ft_ktap_result(&k, ft_report_failures() == cases[i].expect_reports,
				       "%s: %llu reports (expected %llu)", name,
				       (unsigned long long)ft_report_failures(),
				       (unsigned long long)cases[i].expect_reports);
			mm_id_space_destroy(&ids);
			ft_pmem_destroy(&pmem);
			return ft_ktap_finish(&k);
		}
		fprintf(stderr, "test_page_alloc: unknown --case '%s'\n", name);
		return FT_EXIT_USAGE;
	}
	ft_ktap_start(13);
	test_alignment(&k);
	test_exhaust_and_merge(&k);
	test_fail_injection(&k);
	test_pins(&k);
	ft_ktap_result(&k, ft_report_failures() == 0, "no oracle fired");
	mm_id_space_destroy(&ids);
	ft_pmem_destroy(&pmem);
	return ft_ktap_finish(&k);
}
