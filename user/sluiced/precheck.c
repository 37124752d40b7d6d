// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The sandboxed config precheck (daemon.h): a child parses the file first. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "daemon.h"

#define PRECHECK_MEM	(512UL << 20)

/* ASan's shadow memory counts against RLIMIT_DATA: no memory cap under it
 * (the loader's own node budget still bounds alias expansion). */
#if defined(__SANITIZE_ADDRESS__)
#define PRECHECK_LIMIT_MEM 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PRECHECK_LIMIT_MEM 0
#endif
#endif
#ifndef PRECHECK_LIMIT_MEM
#define PRECHECK_LIMIT_MEM 1
#endif
#define PRECHECK_CPU_S	5
#define PRECHECK_WAIT_MS 15000

/*
 * Parse @path in a child with memory and CPU limits before the daemon
 * parses it: whatever a hostile or broken file does to the YAML library
 * (loop, crash, blow up memory), it does to the child. 0 when the child
 * parsed it (the daemon then parses it itself), else -errno with @err.
 */
int sl_config_precheck(const char *path, char *err, size_t errlen)
{
	struct pollfd pfd;
	int pipefd[2], status;
	ssize_t n = 0;
	pid_t pid;

	if (pipe2(pipefd, O_CLOEXEC))
		return 0;	/* cannot isolate: parse in place as before */
	pid = fork();
	if (pid < 0) {
		close(pipefd[0]);
		close(pipefd[1]);
		return 0;
	}
	if (pid == 0) {
		struct rlimit mem = { PRECHECK_MEM, PRECHECK_MEM };
		struct rlimit cpu = { PRECHECK_CPU_S, PRECHECK_CPU_S };
		struct sl_config cfg;
		char msg[4096];	/* every problem, one per line */
		int null = open("/dev/null", O_WRONLY);

		close(pipefd[0]);
		/* Warnings are the daemon's to log, once, when it parses. */
		if (null >= 0)
			dup2(null, STDERR_FILENO);
		if (PRECHECK_LIMIT_MEM)
			setrlimit(RLIMIT_DATA, &mem);
		setrlimit(RLIMIT_CPU, &cpu);
		if (sl_config_load(path, &cfg, msg, sizeof(msg))) {
			if (write(pipefd[1], msg, strlen(msg)) < 0)
				_exit(2);
			_exit(1);
		}
		_exit(0);
	}
	close(pipefd[1]);
	pfd.fd = pipefd[0];
	pfd.events = POLLIN;
	/* The pipe becomes readable when the child reports or exits. */
	if (poll(&pfd, 1, PRECHECK_WAIT_MS) != 1) {
		close(pipefd[0]);
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		snprintf(err, errlen, "%s: parsing did not finish within %d s: refused",
			 path, PRECHECK_WAIT_MS / 1000);
		return -ETIMEDOUT;
	}
	n = read(pipefd[0], err, errlen - 1);
	close(pipefd[0]);
	waitpid(pid, &status, 0);
	if (WIFSIGNALED(status)) {
		snprintf(err, errlen, "%s: the YAML parser died on it (signal %d) or hit its "
			 "limits (%lu MiB, %d s CPU): refused", path, WTERMSIG(status),
			 PRECHECK_MEM >> 20, PRECHECK_CPU_S);
		return -EINVAL;
	}
	if (WEXITSTATUS(status)) {
		err[n > 0 ? n : 0] = '\0';
		return -EINVAL;
	}
	return 0;
}
