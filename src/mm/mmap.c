// SPDX-License-Identifier: GPL-2.0-only
/*
 * Address spaces: the world, mm lifecycle (mm_alloc, fork's dup_mmap,
 * exit_mmap), the mmap_lock and per-VMA locks, VMA lookup and splitting,
 * mmap and munmap.  Upstream: dup_mmap() (kernel/fork.c, mm/mmap.c in
 * recent kernels), and which lock each operation takes: munmap's downgrade
 * in mm/vma.c, the per-VMA locks of mm/mmap_lock.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* ---- Locking modes ------------------------------------------------------------- */

static const struct ft_locking_mode upstream_mode = {
	.name = "upstream",
	.desc = "v6.5+: per-VMA fault locks, fork write-locks every parent VMA",
	.fault_vma_lock = true,
	.dontneed_vma_lock = true,
};

static const struct ft_locking_mode spf_mode = {
	.name = "spf",
	.desc = "Android speculative faults: no mmap or VMA lock, VMA checked "
		"by sequence count under the PTL",
	.fault_speculative = true,
};

const struct ft_locking_mode *const ft_locking_modes[] = {
	&upstream_mode, &spf_mode, NULL,
};

const struct ft_locking_mode *ft_locking_mode_find(const char *name)
{
	for (int i = 0; ft_locking_modes[i]; i++)
		if (!strcmp(ft_locking_modes[i]->name, name))
			return ft_locking_modes[i];
	return NULL;
}

/* ---- The world -------------------------------------------------------------------- */

int ft_world_init(struct ft_world *w, struct ft_pmem *pmem,
		  const struct ft_locking_mode *locking)
{
	int ret;

	memset(w, 0, sizeof(*w));
	w->pmem = pmem;
	w->locking = locking;
	w->anon_orders = BIT(0);
	w->gather_capacity = 64;
	spin_lock_init(&w->anon_vma_pool_lock);
	INIT_LIST_HEAD(&w->anon_vma_pool);
	INIT_LIST_HEAD(&w->anon_vma_all);
	ret = mm_id_space_init(&w->ids, MM_ID_MAX);
	if (ret)
		return ret;
	/* The zero page: mapped read-only by read faults, never freed. */
	w->zero_folio = folio_alloc(pmem, 0, NULL);
	if (!w->zero_folio) {
		mm_id_space_destroy(&w->ids);
		return -ENOMEM;
	}
	return 0;
}

void ft_world_destroy(struct ft_world *w)
{
	folio_put(w->zero_folio);
	ft_anon_vma_pool_destroy(w);
	mm_id_space_destroy(&w->ids);
}

pgprot_t vm_get_page_prot(unsigned long vm_flags)
{
	if (!(vm_flags & (VM_READ | VM_WRITE)))
		return PAGE_NONE;
	/* A private writable mapping maps read-only: the first write COWs. */
	if ((vm_flags & VM_SHARED) && (vm_flags & VM_WRITE))
		return PAGE_SHARED;
	return PAGE_READONLY;
}

/* ---- mm lifecycle ---------------------------------------------------------------------- */

/* One init site per lock: every mm's mmap_lock is one class, every VMA
 * lock another. */
static void mm_init_locks(struct mm_struct *mm)
{
	init_rwsem(&mm->mmap_lock);
	seqcount_init(&mm->write_protect_seq);
	for (int i = 0; i < MAX_VMAS; i++) {
		struct vm_area_struct *vma = &mm->vmas[i];

		init_rwsem(&vma->vm_lock);
		seqcount_init(&vma->vm_seq);
	}
}

struct mm_struct *mm_alloc(struct ft_world *w, unsigned long task_size)
{
	struct mm_struct *mm = calloc(1, sizeof(*mm));

	if (!mm)
		return NULL;
	mm->world = w;
	atomic_set(&mm->mm_users, 1);
	mm_init_locks(mm);
	for (int i = 0; i < MAX_VMAS; i++) {
		struct vm_area_struct *vma = &mm->vmas[i];

		vma->vm_mm = mm;
		vma->vm_lock_seq = UINT32_MAX;
		INIT_LIST_HEAD(&vma->anon_vma_chain);
	}
	if (mm_pgtables_init(mm, w->pmem, task_size)) {
		free(mm);
		return NULL;
	}
	if (mm_alloc_id(&w->ids, mm)) {
		free_pgtables(mm);
		free(mm);
		return NULL;
	}
	return mm;
}

void mmget(struct mm_struct *mm)
{
	atomic_inc(&mm->mm_users);
}

bool mmget_not_zero(struct mm_struct *mm)
{
	int v = atomic_read(&mm->mm_users);

	do {
		if (v <= 0)
			return false;
	} while (!__atomic_compare_exchange_n(&mm->mm_users.counter, &v, v + 1,
					      false, __ATOMIC_ACQ_REL,
					      __ATOMIC_RELAXED));
	return true;
}

/* ---- mmap_lock and VMA locks (include/linux/mmap_lock.h, v6.4-6.11) -------------- */

void vma_end_write_all(struct mm_struct *mm)
{
	mmap_assert_write_locked(mm);
	WRITE_ONCE(mm->mm_lock_seq, mm->mm_lock_seq + 1);
}

void mmap_write_unlock(struct mm_struct *mm)
{
	vma_end_write_all(mm);
	up_write(&mm->mmap_lock);
}

void mmap_write_downgrade(struct mm_struct *mm)
{
	vma_end_write_all(mm);
	downgrade_write(&mm->mmap_lock);
}

void mmap_assert_write_locked(struct mm_struct *mm)
{
	lockdep_assert_held_write(&mm->mmap_lock);
}

bool vma_start_read(struct vm_area_struct *vma)
{
	struct mm_struct *mm = vma->vm_mm;

	/* Write-locked in this mmap_lock cycle: wait for the mmap_lock. */
	if (READ_ONCE(vma->vm_lock_seq) == READ_ONCE(mm->mm_lock_seq))
		return false;
	if (!down_read_trylock(&vma->vm_lock))
		return false;
	if (unlikely(READ_ONCE(vma->vm_lock_seq) == READ_ONCE(mm->mm_lock_seq))) {
		up_read(&vma->vm_lock);
		return false;
	}
	return true;
}

void vma_start_write(struct vm_area_struct *vma)
{
	struct mm_struct *mm = vma->vm_mm;

	mmap_assert_write_locked(mm);
	if (vma->vm_lock_seq == mm->mm_lock_seq)
		return;
	/* Wait for the readers, then keep new ones out by the sequence. */
	down_write(&vma->vm_lock);
	WRITE_ONCE(vma->vm_lock_seq, mm->mm_lock_seq);
	up_write(&vma->vm_lock);
}

void vma_assert_write_locked(struct vm_area_struct *vma)
{
	if (unlikely(vma->vm_lock_seq != READ_ONCE(vma->vm_mm->mm_lock_seq)) &&
	    ft_report_begin("vma lock")) {
		ft_report_msg("WARNING: VMA [%#lx, %#lx) of mm id %u not write-locked\n",
			vma->vm_start, vma->vm_end, vma->vm_mm->mm_id);
		ft_report_end();
	}
}

void vma_assert_locked(struct vm_area_struct *vma)
{
	struct mm_struct *mm = vma->vm_mm;

	if (!lockdep_enabled() || lock_is_held(&vma->vm_lock.dep_map, -1) ||
	    lock_is_held(&mm->mmap_lock.dep_map, -1))
		return;
	vma_assert_write_locked(vma);
}

/* ---- VMA lookup ----------------------------------------------------------------------- */

static bool vma_contains(struct vm_area_struct *vma, unsigned long addr)
{
	return __atomic_load_n(&vma->attached, __ATOMIC_ACQUIRE) &&
	       READ_ONCE(vma->vm_start) <= addr && addr < READ_ONCE(vma->vm_end);
}

struct vm_area_struct *find_vma_speculative(struct mm_struct *mm, unsigned long addr)
{
	for (int i = 0; i < MAX_VMAS; i++)
		if (vma_contains(&mm->vmas[i], addr))
			return &mm->vmas[i];
	return NULL;
}

struct vm_area_struct *find_vma(struct mm_struct *mm, unsigned long addr)
{
	mmap_assert_locked(mm);
	return find_vma_speculative(mm, addr);
}

struct vm_area_struct *lock_vma_under_rcu(struct mm_struct *mm, unsigned long addr)
{
	struct vm_area_struct *vma = find_vma_speculative(mm, addr);

	if (!vma || !vma_start_read(vma))
		return NULL;
	/* The slot may have been detached, reused or shrunk meanwhile. */
	if (!vma_contains(vma, addr)) {
		vma_end_read(vma);
		return NULL;
	}
	return vma;
}

int mm_vmas_sorted(struct mm_struct *mm, struct vm_area_struct **out)
{
	int n = 0;

	for (int i = 0; i < MAX_VMAS; i++) {
		struct vm_area_struct *vma = &mm->vmas[i];
		int j;

		if (!__atomic_load_n(&vma->attached, __ATOMIC_ACQUIRE))
			continue;
		for (j = n; j > 0 && out[j - 1]->vm_start > vma->vm_start; j--)
			out[j] = out[j - 1];
		out[j] = vma;
		n++;
	}
	return n;
}

/* ---- VMA slots and changes (under the mmap_lock for write) ----------------------- */

/* A free slot, write-locked so no stale reader still holds it. */
struct vm_area_struct *vma_alloc(struct mm_struct *mm)
{
	for (int i = 0; i < MAX_VMAS; i++) {
		struct vm_area_struct *vma = &mm->vmas[i];

		if (__atomic_load_n(&vma->attached, __ATOMIC_ACQUIRE) ||
		    !list_empty(&vma->anon_vma_chain) || vma->anon_vma)
			continue;
		vma_start_write(vma);
		return vma;
	}
	return NULL;
}

/*
 * The range and flags of a VMA.  rmap walkers read the range under the
 * anon_vma lock only, so it is set before the VMA is linked to an anon_vma
 * (as vm_area_dup() copies it) or changed under that lock (vma_prepare()).
 */
void vma_set_range(struct vm_area_struct *vma, unsigned long start,
		   unsigned long end, unsigned long pgoff, unsigned long flags)
{
	write_seqcount_begin(&vma->vm_seq);
	WRITE_ONCE(vma->vm_start, start);
	WRITE_ONCE(vma->vm_end, end);
	WRITE_ONCE(vma->vm_pgoff, pgoff);
	WRITE_ONCE(vma->vm_flags, flags);
	WRITE_ONCE(vma->vm_page_prot.pgprot, pgprot_val(vm_get_page_prot(flags)));
	write_seqcount_end(&vma->vm_seq);
}

/* Visible to lookups from now on. */
void vma_mark_attached(struct vm_area_struct *vma)
{
	__atomic_store_n(&vma->attached, 1, __ATOMIC_RELEASE);
}

void vma_detach(struct vm_area_struct *vma)
{
	vma_assert_write_locked(vma);
	write_seqcount_begin(&vma->vm_seq);
	__atomic_store_n(&vma->attached, 0, __ATOMIC_RELEASE);
	write_seqcount_end(&vma->vm_seq);
}

/* __split_vma(): @vma becomes [vm_start, @addr), a new VMA [@addr, vm_end). */
int split_vma(struct vm_area_struct *vma, unsigned long addr)
{
	struct mm_struct *mm = vma->vm_mm;
	unsigned long end = vma->vm_end;
	struct vm_area_struct *new;

	if (addr <= vma->vm_start || addr >= end)
		return 0;
	new = vma_alloc(mm);
	if (!new)
		return -ENOMEM;
	vma_start_write(vma);
	vma_set_range(new, addr, end,
		      vma->vm_pgoff + ((addr - vma->vm_start) >> PAGE_SHIFT),
		      vma->vm_flags);
	WRITE_ONCE(new->anon_vma, vma->anon_vma);	/* vm_area_dup()'s copy */
	if (anon_vma_clone(new, vma))
		return -ENOMEM;
	if (vma->anon_vma)
		anon_vma_lock_write(vma->anon_vma);
	write_seqcount_begin(&vma->vm_seq);
	WRITE_ONCE(vma->vm_end, addr);
	write_seqcount_end(&vma->vm_seq);
	if (vma->anon_vma)
		anon_vma_unlock_write(vma->anon_vma);
	vma_mark_attached(new);
	return 0;
}

/*
 * Split the VMAs straddling @start, then those straddling @end; 0 or
 * -ENOMEM.  Two passes: the upper half of a split at @start may land in a
 * slot this loop has passed, and it is the one that straddles @end (one
 * pass left it whole, and munmap skipped it: the shadow memory's exact
 * zero after a zap caught that).
 */
static int split_at(struct mm_struct *mm, unsigned long start, unsigned long end)
{
	const unsigned long at[] = { start, end };

	for (int k = 0; k < 2; k++) {
		for (int i = 0; i < MAX_VMAS; i++) {
			struct vm_area_struct *vma = &mm->vmas[i];
			int ret;

			if (!vma->attached)
				continue;
			ret = split_vma(vma, at[k]);
			if (ret)
				return ret;
		}
	}
	return 0;
}

int vma_split_range(struct mm_struct *mm, unsigned long start, unsigned long end,
		    struct vm_area_struct **out)
{
	struct vm_area_struct *all[MAX_VMAS];
	int n, k = 0, ret = split_at(mm, start, end);

	if (ret)
		return ret;
	n = mm_vmas_sorted(mm, all);
	for (int i = 0; i < n; i++)
		if (all[i]->vm_start >= start && all[i]->vm_end <= end)
			out[k++] = all[i];
	return k;
}

int ft_mmap(struct mm_struct *mm, unsigned long start, unsigned long len,
	    unsigned long vm_flags)
{
	unsigned long end = start + len;
	struct vm_area_struct *vma;
	int ret = 0;

	if (!len || (start | len) & (PAGE_SIZE - 1) || end > mm->task_size ||
	    end < start || (vm_flags & ~(VM_READ | VM_WRITE)))
		return -EINVAL;
	mmap_write_lock(mm);
	for (int i = 0; i < MAX_VMAS && !ret; i++) {
		vma = &mm->vmas[i];
		if (vma->attached && vma->vm_start < end && start < vma->vm_end)
			ret = -EEXIST;
	}
	vma = ret ? NULL : vma_alloc(mm);
	if (vma) {
		vma_set_range(vma, start, end, start >> PAGE_SHIFT,
			      vm_flags | VM_MAYREAD | VM_MAYWRITE);
		vma_mark_attached(vma);
	}
	else if (!ret)
		ret = -ENOMEM;
	mmap_write_unlock(mm);
	return ret;
}

/*
 * do_vmi_align_munmap(), vms_complete_munmap_vmas(): under the write lock
 * split, write-lock and detach the VMAs; munmap(2) then downgrades (which
 * ends the VMA write locks; detached VMAs stay unusable) and zaps under the
 * read lock, mremap zaps under the write lock.  The PTE tables stay until
 * exit (FT-DEVIATION: no free_pgtables for a range).
 */
int do_vmi_munmap(struct mm_struct *mm, unsigned long start, unsigned long end,
		  bool unlock)
{
	struct vm_area_struct *vmas[MAX_VMAS];
	struct mmu_gather tlb;
	int n;

	mmap_assert_write_locked(mm);
	n = vma_split_range(mm, start, end, vmas);
	if (n < 0) {
		if (unlock)
			mmap_write_unlock(mm);
		return n;
	}
	for (int i = 0; i < n; i++) {
		vma_start_write(vmas[i]);
		vma_detach(vmas[i]);
	}
	if (unlock)
		mmap_write_downgrade(mm);
	tlb_gather_mmu(&tlb, mm);
	for (int i = 0; i < n; i++)
		unmap_page_range(&tlb, vmas[i], vmas[i]->vm_start, vmas[i]->vm_end);
	tlb_finish_mmu(&tlb);
	/* free_pgtables' part: rmap walkers may no longer reach them. */
	for (int i = 0; i < n; i++)
		unlink_anon_vmas(vmas[i]);
	if (unlock)
		mmap_read_unlock(mm);
	return 0;
}

int ft_munmap(struct mm_struct *mm, unsigned long start, unsigned long len)
{
	unsigned long end = start + len;
	u64 since;
	int ret;

	if (!len || (start | len) & (PAGE_SIZE - 1) || end > mm->task_size || end < start)
		return -EINVAL;
	since = ft_tlb_call_begin(mm);
	mmap_write_lock(mm);
	ret = do_vmi_munmap(mm, start, end, true);
	if (!ret)
		ft_tlb_done(mm, start, end, FT_TLB_UNMAPPED, since);
	return ret;
}

/* ---- fork: dup_mmap ---------------------------------------------------------------- */

static int dup_mmap(struct mm_struct *mm, struct mm_struct *oldmm)
{
	struct vm_area_struct *vmas[MAX_VMAS];
	int n = mm_vmas_sorted(oldmm, vmas);

	mmap_assert_write_locked(oldmm);
	for (int i = 0; i < n; i++) {
		struct vm_area_struct *mpnt = vmas[i], *tmp;
		int ret;

		/* Since fb49c455323f: no fault on the parent VMA while it is
		 * copied.  Z14 is v6.4 without it. */
		if (!ft_injected(FT_INJ_FORK_NO_VMA_LOCK))
			vma_start_write(mpnt);
		tmp = vma_alloc(mm);
		if (!tmp)
			return -ENOMEM;
		vma_set_range(tmp, mpnt->vm_start, mpnt->vm_end, mpnt->vm_pgoff,
			      mpnt->vm_flags);
		ret = anon_vma_fork(tmp, mpnt);
		if (ret)
			return ret;
		vma_mark_attached(tmp);
		ret = copy_page_range(tmp, mpnt);
		if (ret)
			return ret;
	}
	return 0;
}

struct mm_struct *ft_fork(struct mm_struct *oldmm)
{
	return ft_fork_hooked(oldmm, NULL);
}

struct mm_struct *ft_fork_hooked(struct mm_struct *oldmm, void *hook_data)
{
	u64 since = ft_tlb_call_begin(oldmm);
	struct mm_struct *mm = mm_alloc(oldmm->world, oldmm->task_size);
	int ret;

	if (!mm)
		return NULL;
	mm->hook_data = hook_data;	/* reclaim may discard as we copy */
	mmap_write_lock(oldmm);
	mmap_write_lock_nested(mm, SINGLE_DEPTH_NESTING);
	ret = dup_mmap(mm, oldmm);
	mmap_write_unlock(mm);
	/* The parent's write-protections take effect everywhere only now. */
	flush_tlb_mm(oldmm);
	mmap_write_unlock(oldmm);
	ft_tlb_done(oldmm, 0, oldmm->task_size, FT_TLB_WRPROTECTED, since);
	if (ret) {
		mmput(mm);	/* tears down what was copied */
		return NULL;
	}
	return mm;
}

/* ---- exit ------------------------------------------------------------------------------ */

static void exit_mmap(struct mm_struct *mm)
{
	struct vm_area_struct *vmas[MAX_VMAS];
	struct mmu_gather tlb;
	int n;

	mmap_write_lock(mm);
	n = mm_vmas_sorted(mm, vmas);
	tlb_gather_mmu_fullmm(&tlb, mm);
	for (int i = 0; i < n; i++)
		unmap_page_range(&tlb, vmas[i], vmas[i]->vm_start, vmas[i]->vm_end);
	tlb_finish_mmu(&tlb);
	for (int i = 0; i < n; i++) {
		vma_start_write(vmas[i]);
		vma_detach(vmas[i]);
		unlink_anon_vmas(vmas[i]);
	}
	mmap_write_unlock(mm);
	/* No rmap walker can reach the tables any more: free them. */
	free_pgtables(mm);
}

void mmput(struct mm_struct *mm)
{
	if (!atomic_dec_and_test(&mm->mm_users))
		return;
	exit_mmap(mm);
	mm_free_id(&mm->world->ids, mm);
	free(mm);
}
