// SPDX-License-Identifier: GPL-2.0-only
/*
 * Child runs: this binary re-executed, for the zoo's cases, the serial
 * re-runs after a parallel failure and --minimize's candidates.  A child is
 * a process so that a crash, a hang or a fatal report ends only it.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "stress.h"

pid_t ft_child_spawn(char **argv, const char *log)
{
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid)
		return pid;
	if (log && (!freopen(log, "w", stdout) || dup2(fileno(stdout), STDERR_FILENO) < 0))
		_exit(FT_EXIT_USAGE);
	execv("/proc/self/exe", argv);
	fprintf(stderr, FT_PROG ": cannot run /proc/self/exe: %s\n", strerror(errno));
	_exit(FT_EXIT_USAGE);
}

/*
 * Sleep until the child may have exited or the deadline passed.  A pidfd
 * turns readable when the child exits, so the zoo's time to detect is the
 * child's own; without one (before Linux 5.3), a 1 ms tick.
 */
static void wait_child(int pidfd, u64 deadline_ns)
{
	struct timespec tick = { 0, 1000 * 1000 };
	struct pollfd pfd = { .fd = pidfd, .events = POLLIN };
	u64 now;
	int ms = -1;

	if (pidfd < 0) {
		nanosleep(&tick, NULL);
		return;
	}
	now = ft_now_ns();
	if (deadline_ns)
		ms = deadline_ns > now ? (int)min((deadline_ns - now) / NSEC_PER_MSEC + 1,
						  (u64)INT_MAX) : 0;
	poll(&pfd, 1, ms);
}

int ft_child_reap(pid_t pid, u64 deadline_ns, bool *hung)
{
	int status, pidfd;

	*hung = false;
	if (pid < 0)
		return -ECHILD;
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (!*hung && deadline_ns && ft_now_ns() > deadline_ns) {
			kill(pid, SIGKILL);
			*hung = true;
			deadline_ns = 0;	/* killed: wait for its exit */
		}
		wait_child(pidfd, deadline_ns);
	}
	if (pidfd >= 0)
		close(pidfd);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}
