// SPDX-License-Identifier: GPL-2.0-only
/*
 * kernel_unshare: what the running kernel does with the copy that a
 * read-only pin's unshare (FAULT_FLAG_UNSHARE) makes of a shared anon page,
 * the fact behind the model's dirty entry in wp_page_copy() (src/mm/memory.c).
 *
 *   1. A page written, then shared with a child by fork; process_vm_readv()
 *      of it pins it read-only, which unshares it: is the copy counted
 *      dirty (smaps Private_Dirty)?
 *   2. The same, then a second fork; the parent alone MADV_FREEs the page
 *      and unmaps it, and the second child pages it out (MADV_PAGEOUT, as
 *      reclaim would): does that child still read what was written?
 *
 * Prints one line per question; exit 0 if the kernel keeps the data
 * (dirty copy, value kept), 1 if it does not, 2 if a call failed.  Not
 * part of the test suite: it checks the machine's kernel, not the model.
 */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT	21
#endif

#define VALUE	0x1234567890abcdefUL

static long page_size;

static void die(const char *what)
{
	perror(what);
	exit(2);
}

/* smaps' Private_Dirty of the VMA holding @addr, in kB (-1: not found). */
static long private_dirty_kb(const void *addr)
{
	unsigned long lo, hi, a = (unsigned long)addr;
	char line[256];
	long kb = -1;
	bool in = false;
	FILE *f = fopen("/proc/self/smaps", "r");

	if (!f)
		die("/proc/self/smaps");
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2)	/* a VMA's first line */
			in = lo <= a && a < hi;
		else if (in && sscanf(line, "Private_Dirty: %ld kB", &kb) == 1)
			break;
	}
	fclose(f);
	return kb;
}

/* One page of its own VMA (PROT_NONE neighbours keep it from merging). */
static volatile unsigned long *page_alone(void)
{
	char *g = mmap(NULL, 3 * page_size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (g == MAP_FAILED || mmap(g + page_size, page_size, PROT_READ | PROT_WRITE,
				    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED)
		die("mmap");
	return (volatile unsigned long *)(g + page_size);
}

/* Write, fork a sleeping child (the page is shared), pin read-only. */
static pid_t shared_then_unshared(volatile unsigned long *p)
{
	static char buf[65536];
	struct iovec local = { buf, (size_t)page_size };
	struct iovec remote = { (void *)p, (size_t)page_size };
	pid_t child;

	p[0] = VALUE;
	child = fork();
	if (child < 0)
		die("fork");
	if (!child) {
		pause();
		_exit(0);
	}
	if (process_vm_readv(getpid(), &local, 1, &remote, 1, 0) != page_size)
		die("process_vm_readv");
	return child;
}

static void reap(pid_t child)
{
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
}

/* Question 2: true if the second child still reads VALUE. */
static bool sibling_free_keeps_data(void)
{
	volatile unsigned long *p = page_alone();
	pid_t first = shared_then_unshared(p), second;
	int go[2], status;
	char b = 0;

	if (pipe(go))
		die("pipe");
	second = fork();
	if (second < 0)
		die("fork");
	if (!second) {
		if (read(go[0], &b, 1) != 1 || madvise((void *)p, page_size, MADV_PAGEOUT))
			_exit(2);
		_exit(p[0] == VALUE ? 0 : 1);
	}
	if (madvise((void *)p, page_size, MADV_FREE) ||
	    munmap((void *)p, page_size) || write(go[1], "x", 1) != 1)
		die("madvise/munmap/write");
	waitpid(second, &status, 0);
	reap(first);
	if (!WIFEXITED(status) || WEXITSTATUS(status) == 2)
		die("the second child");
	return WEXITSTATUS(status) == 0;
}

int main(void)
{
	volatile unsigned long *p;
	pid_t child;
	long kb;
	bool kept;

	page_size = sysconf(_SC_PAGESIZE);
	p = page_alone();
	child = shared_then_unshared(p);
	kb = private_dirty_kb((void *)p);
	reap(child);
	printf("kernel_unshare: the unshared copy: Private_Dirty %ld kB (%s)\n", kb,
	       kb > 0 ? "dirty" : "clean");
	kept = sibling_free_keeps_data();
	printf("kernel_unshare: a child of the unsharing parent, after the parent's "
	       "MADV_FREE and its own MADV_PAGEOUT: %s\n", kept ? "data kept" : "data lost");
	return kb > 0 && kept ? 0 : 1;
}
