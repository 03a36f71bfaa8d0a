// SPDX-License-Identifier: GPL-2.0-only
/* dump_page()/dump_folio() in the kernel's layout (mm/debug.c). */
#include "ft/folio.h"
#include "ft/mapcount.h"
#include "ft/report.h"

const char *const vm_event_names[NR_VM_EVENTS] = {
	[PGFAULT] = "pgfault",
	[THP_FAULT_ALLOC] = "thp_fault_alloc",
	[COW_COPY] = "cow_copy",
	[COW_REUSE] = "cow_reuse",
	[FORK_PTE_COPY] = "fork_pte_copy",
	[ZAP_PTE] = "zap_pte",
	[PGMIGRATE_SUCCESS] = "pgmigrate_success",
	[PGMIGRATE_FAIL] = "pgmigrate_fail",
	[CONTPTE_FOLD] = "contpte_fold",
	[CONTPTE_UNFOLD_SET_PTE] = "contpte_unfold_set_pte",
	[CONTPTE_UNFOLD_CLEAR] = "contpte_unfold_clear",
	[CONTPTE_UNFOLD_CLEAR_PARTIAL] = "contpte_unfold_clear_partial",
	[CONTPTE_UNFOLD_WRPROTECT] = "contpte_unfold_wrprotect",
	[CONTPTE_UNFOLD_WRPROTECT_PARTIAL] = "contpte_unfold_wrprotect_partial",
	[CONTPTE_UNFOLD_ACCESS_FLAGS] = "contpte_unfold_access_flags",
	[CONTPTE_UNFOLD_MPROTECT_PARTIAL] = "contpte_unfold_mprotect_partial",
	[CONTPTE_CONVERT] = "contpte_convert",
	[VM_TLB_FLUSH] = "tlb_flush",
	[GUP_FAST_PIN] = "gup_fast_pin",
	[GUP_SLOW_PIN] = "gup_slow_pin",
	[PGSCAN] = "pgscan",
	[PGLAZYFREE] = "pglazyfree",
	[PGLAZYFREED] = "pglazyfreed",
	[PGLAZYFREE_REDIRTIED] = "pglazyfree_redirtied",
	[PSWPOUT] = "pswpout",
	[PSWPIN] = "pswpin",
	[SWAP_REUSE_LARGE] = "swap_reuse_large",
	[MAPCOUNT_UPDATE] = "mapcount_update",
	[MAPCOUNT_UPDATE_TIMED] = "mapcount_update_timed",
	[MAPCOUNT_UPDATE_TIMED_NS] = "mapcount_update_timed_ns",
	[COW_LARGE_REUSE] = "cow_large_reuse",
	[COW_LARGE_COPY] = "cow_large_copy",
	[COW_LARGE_COPY_AVOIDABLE] = "cow_large_copy_avoidable",
	[MAPCOUNT_READ_RETRY] = "mapcount_read_retry",
};

static const char *const pageflag_names[] = {
	[PG_locked] = "locked", [PG_head] = "head", [PG_lru] = "lru",
	[PG_swapbacked] = "swapbacked", [PG_swapcache] = "swapcache",
	[PG_dirty] = "dirty",
	[PG_partially_mapped] = "partially_mapped",
	[PG_anon_exclusive] = "anon_exclusive", [PG_buddy] = "buddy",
	[PG_bad] = "bad",
};

static void print_flags(FILE *out, unsigned long flags)
{
	const char *sep = "";

	fprintf(out, "flags: %#lx(", flags);
	for (size_t i = 0; i < ARRAY_SIZE(pageflag_names); i++) {
		if (flags & BIT(i)) {
			fprintf(out, "%s%s", sep, pageflag_names[i]);
			sep = "|";
		}
	}
	fprintf(out, ")\n");
}

/* The folio fields, read racily (a dump may run while others change them). */
static void print_folio_fields(FILE *out, struct folio *folio)
{
	fprintf(out, "folio: refcount:%d mapcount:%d %s mapping:%#lx index:%#lx "
		"pfn:%#lx order:%u\n", folio_ref_count(folio), folio_mapcount(folio),
		folio_test_anon(folio) ? "anon" : "file", READ_ONCE(folio->mapping),
		READ_ONCE(folio->index), folio_pfn(folio), folio_order(folio));
	if (!folio_test_large(folio))
		return;
	fprintf(out, "head: large_mapcount:%d entire_mapcount:%d "
		"nr_pages_mapped:%d pincount:%d\n", folio_large_mapcount(folio),
		folio_entire_mapcount(folio), atomic_read(&folio->_nr_pages_mapped),
		atomic_read(&folio->_pincount));
	folio_mc(folio)->print(out, folio);
}

void dump_page(FILE *out, struct page *page, const char *reason)
{
	struct folio *folio = page_folio(page);

	fprintf(out, "page: pfn:%#lx mapcount:%d data:%#lx,%#lx\n", page_to_pfn(page),
		atomic_read(&page->_mapcount) + 1, READ_ONCE(page->data[0]),
		READ_ONCE(page->data[1]));
	if (folio) {
		fprintf(out, "page %lu of ", folio_page_idx(folio, page));
		print_folio_fields(out, folio);
	} else {
		fprintf(out, "(not part of an allocated folio)\n");
	}
	print_flags(out, READ_ONCE(page->flags));
	fprintf(out, "page dumped because: %s\n", reason);
}

void dump_folio(FILE *out, struct folio *folio, const char *reason)
{
	dump_page(out, folio->page, reason);
}

void ft_folio_bug(struct folio *folio, const char *oracle, const char *cond,
		  const char *file, int line)
{
	if (!ft_report_begin(oracle))
		return;
	fprintf(stderr, "------------[ cut here ]------------\n");
	ft_report_msg("WARNING: %s at %s:%d\n", cond, file, line);
	dump_folio(stderr, folio, cond);
	fprintf(stderr, "---[ end trace ]---\n");
	ft_report_end();
}
