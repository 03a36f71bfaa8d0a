// SPDX-License-Identifier: GPL-2.0-only
/*
 * MADV_DONTNEED (mm/madvise.c; pagetable spec §7.2, §8.2): a zap under the
 * per-VMA read lock when one VMA covers the range, else under the
 * mmap_lock for read.  Concurrent faults may refill behind the zap.
 */
#include <errno.h>

#include "internal.h"

int ft_madvise_dontneed(struct mm_struct *mm, unsigned long start,
			unsigned long len)
{
	unsigned long end = start + len;
	struct vm_area_struct *vmas[MAX_VMAS];
	struct vm_area_struct *vma;
	int n;

	if (!len || (start | len) & (PAGE_SIZE - 1) || end > mm->task_size || end < start)
		return -EINVAL;
	if (mm->world->locking->dontneed_vma_lock) {
		vma = lock_vma_under_rcu(mm, start);
		if (vma) {
			bool covers = end <= vma->vm_end;

			if (covers)
				zap_page_range_single(vma, start, len);
			vma_end_read(vma);
			if (covers)
				return 0;
		}
	}
	mmap_read_lock(mm);
	n = mm_vmas_sorted(mm, vmas);
	for (int i = 0; i < n; i++) {
		unsigned long s = max(start, vmas[i]->vm_start);
		unsigned long e = min(end, vmas[i]->vm_end);

		if (s < e)
			zap_page_range_single(vmas[i], s, e - s);
	}
	mmap_read_unlock(mm);
	return 0;
}
