// SPDX-License-Identifier: GPL-2.0-only
/*
 * Child runs: this binary re-executed, for the zoo's cases, the serial
 * re-runs after a parallel failure and --minimize's candidates.  A child is
 * a process so that a crash, a hang or a fatal report ends only it.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
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

int ft_child_reap(pid_t pid, u64 deadline_ns, bool *hung)
{
	struct timespec tick = { 0, 20 * 1000 * 1000 };
	int status;

	*hung = false;
	if (pid < 0)
		return -ECHILD;
	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (!*hung && deadline_ns && ft_now_ns() > deadline_ns) {
			kill(pid, SIGKILL);
			*hung = true;
		}
		nanosleep(&tick, NULL);
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}
