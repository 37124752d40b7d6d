/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * End-to-end tests of the control client without sluiced: a tiny server
 * thread on a Unix socket answers canned lines, and sl_ctl_call() must
 * round-trip, time out, and reject what is not a JSON object. Then the
 * drain --wait loop runs over that socket and over scripted call
 * sequences (lost daemon, SIGINT, stuck drain) with a fake clock.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "../lib/check.h"

#include "cli.h"
#include "ctl.h"

#include "array.h"
#define MAX_STEPS	8
#define SERVER_WAIT_MS	5000	/* a stuck test fails instead of hanging */
#define T0		1700000000000ULL	/* the fake clock's start, Unix ms */

/* --- the canned server -------------------------------------------------- */

enum step_kind {
	STEP_REPLY,	/* write text */
	STEP_SPLIT,	/* write text in three pieces with pauses */
	STEP_SILENT,	/* answer nothing until the client hangs up */
	STEP_CLOSE,	/* hang up without a word */
	STEP_HUGE,	/* more than the client's reply limit, no newline */
};

struct step {
	enum step_kind kind;
	const char *text;
};

struct server {
	char dir[64];
	char path[128];
	int lfd;
	pthread_t thread;
	bool running;
	const struct step *steps;
	size_t nsteps;
	size_t served;
	char reqs[MAX_STEPS][512];	/* request lines as received */
};

static bool wait_fd(int fd, short events)
{
	struct pollfd pfd = { .fd = fd, .events = events };

	return poll(&pfd, 1, SERVER_WAIT_MS) == 1;
}

static void read_request(int fd, char *buf, size_t len)
{
	size_t off = 0;
	ssize_t n;

	buf[0] = '\0';
	while (off + 1 < len && wait_fd(fd, POLLIN)) {
		n = read(fd, buf + off, len - off - 1);
		if (n <= 0)
			break;
		off += n;
		buf[off] = '\0';
		if (memchr(buf, '\n', off))
			break;
	}
}

static void send_text(int fd, const char *s, size_t len)
{
	ssize_t n;

	while (len && (n = send(fd, s, len, MSG_NOSIGNAL)) > 0) {
		s += n;
		len -= n;
	}
}

static void act(int fd, const struct step *st)
{
	size_t len = st->text ? strlen(st->text) : 0, i;
	static char junk[65536];
	char c;

	switch (st->kind) {
	case STEP_REPLY:
		send_text(fd, st->text, len);
		break;
	case STEP_SPLIT:
		for (i = 0; i < 3; i++) {
			send_text(fd, st->text + len * i / 3, len * (i + 1) / 3 - len * i / 3);
			usleep(20000);
		}
		break;
	case STEP_SILENT:
		if (wait_fd(fd, POLLIN))
			(void)!read(fd, &c, 1);
		break;
	case STEP_CLOSE:
		break;
	case STEP_HUGE:
		memset(junk, 'x', sizeof(junk));
		for (i = 0; i < (SL_CTL_MAX_REQUEST * 16) / sizeof(junk) + 2; i++)
			send_text(fd, junk, sizeof(junk));
		break;
	}
}

static void *serve(void *arg)
{
	struct server *s = arg;
	int fd;

	for (; s->served < s->nsteps; s->served++) {
		if (!wait_fd(s->lfd, POLLIN))
			break;
		fd = accept(s->lfd, NULL, NULL);
		if (fd < 0)
			break;
		read_request(fd, s->reqs[s->served], sizeof(s->reqs[0]));
		act(fd, &s->steps[s->served]);
		close(fd);
	}
	return NULL;
}

/* A listening socket in a fresh 0700 directory; steps run in a thread. */
static void server_start(struct server *s, const struct step *steps, size_t n)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };

	memset(s, 0, sizeof(*s));
	snprintf(s->dir, sizeof(s->dir), "/tmp/sluice-test-ctl.XXXXXX");
	CHECK_NONNULL(CHECK_HERE, mkdtemp(s->dir));
	snprintf(s->path, sizeof(s->path), "%s/ctl.sock", s->dir);
	CHECK(CHECK_HERE, strlen(s->path) < sizeof(sun.sun_path));
	memcpy(sun.sun_path, s->path, strlen(s->path) + 1);
	s->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK_RC(CHECK_HERE, s->lfd);
	CHECK_INT(CHECK_HERE,
		  bind(s->lfd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	CHECK_INT(CHECK_HERE, listen(s->lfd, 8), 0);
	s->steps = steps;
	s->nsteps = n;
	if (n) {
		CHECK_INT(CHECK_HERE,
			  pthread_create(&s->thread, NULL, serve, s), 0);
		s->running = true;
	}
}

static void server_stop(struct server *s)
{
	if (s->running)
		pthread_join(s->thread, NULL);
	s->running = false;
	close(s->lfd);
	unlink(s->path);
	rmdir(s->dir);
}

static struct json_object *status_req(void)
{
	struct json_object *req = json_object_new_object();

	json_object_object_add(req, "cmd", json_object_new_string("status"));
	return req;
}

static long long elapsed_ms(const struct timespec *a)
{
	struct timespec b;

	clock_gettime(CLOCK_MONOTONIC, &b);
	return (b.tv_sec - a->tv_sec) * 1000LL + (b.tv_nsec - a->tv_nsec) / 1000000;
}

/* --- sl_ctl_call() ------------------------------------------------------ */

static void test_round_trip(void **state)
{
	static const struct step steps[] = {
		{ STEP_REPLY, "{\"ok\":true,\"result\":{\"vips\":3}}\n" },
		{ STEP_SPLIT, "{\"ok\":false,\"error\":\"no such VIP\",\"hint\":\"see vip list\"}\n" },
	};
	struct json_object *req = status_req(), *reply, *result, *v;
	struct server s;

	(void)state;
	server_start(&s, steps, ARRAY_SIZE(steps));
	CHECK_INT(CHECK_HERE, sl_ctl_call(s.path, req, &reply, 2000), 0);
	CHECK(CHECK_HERE, json_object_object_get_ex(reply, "result", &result));
	CHECK(CHECK_HERE, json_object_object_get_ex(result, "vips", &v));
	CHECK_INT(CHECK_HERE, json_object_get_int(v), 3);
	json_object_put(reply);

	/* A second connection, and a reply that arrives in pieces. */
	CHECK_INT(CHECK_HERE, sl_ctl_call(s.path, req, &reply, 2000), 0);
	CHECK(CHECK_HERE, json_object_object_get_ex(reply, "error", &v));
	CHECK_STR(CHECK_HERE, json_object_get_string(v), "no such VIP");
	json_object_put(reply);
	server_stop(&s);

	/* One request per line, exactly as sent. */
	CHECK_STR(CHECK_HERE, s.reqs[0], "{\"cmd\":\"status\"}\n");
	CHECK_INT(CHECK_HERE, s.served, 2);
	json_object_put(req);
}

static void test_reply_shapes(void **state)
{
	static const struct {
		struct step step;
		int ret;
	} cases[] = {
		{ { STEP_REPLY, "{\"ok\":true}\n" }, 0 },
		{ { STEP_REPLY, "{\"ok\":true}\r\n" }, 0 },
		{ { STEP_REPLY, "{\"ok\":true}" }, 0 },		/* newline forgotten, then EOF */
		{ { STEP_REPLY, "{\"ok\":true}\n{\"ok\":false}\n" }, 0 },	/* first line only */
		{ { STEP_REPLY, "{\"s\":\"a\\nb\"}\n" }, 0 },		/* escaped newline inside */
		{ { STEP_REPLY, "hello\n" }, -EPROTO },
		{ { STEP_REPLY, "[1,2]\n" }, -EPROTO },
		{ { STEP_REPLY, "\"ok\"\n" }, -EPROTO },
		{ { STEP_REPLY, "{\"ok\":true} junk\n" }, -EPROTO },
		{ { STEP_REPLY, "{\"ok\":tr\n" }, -EPROTO },
		{ { STEP_REPLY, "\n" }, -EPROTO },
		{ { STEP_CLOSE, NULL }, -ECONNRESET },
		{ { STEP_HUGE, NULL }, -EMSGSIZE },
	};
	struct json_object *req = status_req(), *reply;
	struct server s;
	size_t i;
	int ret;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		server_start(&s, &cases[i].step, 1);
		ret = sl_ctl_call(s.path, req, &reply, 2000);
		server_stop(&s);
		if (ret != cases[i].ret) {
			print_error("case %zu: sl_ctl_call() = %d, expected %d\n", i, ret,
				    cases[i].ret);
			fail();
		}
		if (ret)
			CHECK_NULL(CHECK_HERE, reply);
		json_object_put(reply);
	}
	json_object_put(req);
}

/*
 * A reload's outcome for sluiced's audit line: applied, or rejected with
 * the first line of why (a rejected reload's reply is still "ok").
 */
static void test_reload_outcome(void **state)
{
	static const struct {
		const char *label;
		const char *result; /* the reply's "result" */
		bool applied;
		const char *why;
	} cases[] = {
		{ "applied", "{\"applied\":true,\"changes\":[]}", true, "" },
		{ "rejected",
		  "{\"applied\":false,\"rejected\":\"/e/s.yaml:1:7: vips: bad\"}",
		  false, "/e/s.yaml:1:7: vips: bad" },
		{ "first line only",
		  "{\"applied\":false,\"rejected\":\"bad\\nhint: fix it\"}",
		  false, "bad" },
		{ "control characters",
		  "{\"applied\":false,\"rejected\":\"a\\tb\\rc\"}", false,
		  "a b c" },
		{ "no reason", "{\"applied\":false}", false,
		  "no reason given" },
		{ "applied not a boolean", "{\"applied\":\"yes\"}", false,
		  "no reason given" },
	};
	struct json_object *o;
	char why[64];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		o = json_tokener_parse(cases[i].result);
		CHECK_NONNULL(cases[i].label, o);
		CHECK_INT(cases[i].label,
			  sl_ctl_reload_applied(o, why, sizeof(why)),
			  cases[i].applied);
		CHECK_STR(cases[i].label, why, cases[i].why);
		json_object_put(o);
	}
	/* Cut to the buffer, still terminated. */
	o = json_tokener_parse(
		"{\"applied\":false,\"rejected\":\"0123456789\"}");
	CHECK_INT("short buffer", sl_ctl_reload_applied(o, why, 5), false);
	CHECK_STR("short buffer", why, "0123");
	json_object_put(o);
}

static void test_timeout(void **state)
{
	static const struct step silent = { STEP_SILENT, NULL };
	struct json_object *req = status_req(), *reply;
	struct timespec t0;
	struct server s;
	long long ms;

	(void)state;
	server_start(&s, &silent, 1);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK_INT(CHECK_HERE, sl_ctl_call(s.path, req, &reply, 200),
		  -ETIMEDOUT);
	ms = elapsed_ms(&t0);
	server_stop(&s);
	CHECK_NULL(CHECK_HERE, reply);
	CHECK(CHECK_HERE, ms >= 190 && ms < 2000);
	json_object_put(req);
}

static void test_unreachable(void **state)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct json_object *req = status_req(), *reply;
	char path[200];
	struct server s;
	int fd;

	(void)state;
	server_start(&s, NULL, 0);

	snprintf(path, sizeof(path), "%s/missing.sock", s.dir);
	CHECK_INT(CHECK_HERE, sl_ctl_call(path, req, &reply, 1000), -ENOENT);
	CHECK_NULL(CHECK_HERE, reply);

	/* A socket file nobody listens on: a daemon that died. */
	snprintf(path, sizeof(path), "%s/dead.sock", s.dir);
	CHECK(CHECK_HERE, strlen(path) < sizeof(sun.sun_path));
	memcpy(sun.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK_INT(CHECK_HERE, bind(fd, (struct sockaddr *)&sun, sizeof(sun)),
		  0);
	CHECK_INT(CHECK_HERE, sl_ctl_call(path, req, &reply, 1000),
		  -ECONNREFUSED);
	close(fd);
	unlink(path);

	memset(path, 'a', sizeof(path) - 1);
	path[0] = '/';
	path[sizeof(path) - 1] = '\0';
	CHECK_INT(CHECK_HERE, sl_ctl_call(path, req, &reply, 1000),
		  -ENAMETOOLONG);
	server_stop(&s);
	json_object_put(req);
}

/*
 * The socket is root-only in production. Root passes permission checks,
 * so as root the check runs in a child that became nobody; the 0700
 * directory then refuses it. As a user, a 0000 socket does the same.
 */
static void test_permission_denied(void **state)
{
	struct json_object *req = status_req(), *reply;
	struct server s;
	int status;
	pid_t pid;

	(void)state;
	server_start(&s, NULL, 0);
	if (geteuid() != 0)
		CHECK_INT(CHECK_HERE, chmod(s.path, 0), 0);
	pid = fork();
	CHECK_RC(CHECK_HERE, pid);
	if (pid == 0) {
		if (geteuid() == 0 && (setgid(65534) || setuid(65534)))
			_exit(2);
		_exit(sl_ctl_call(s.path, req, &reply, 1000) == -EACCES ? 0 : 1);
	}
	CHECK_INT(CHECK_HERE, waitpid(pid, &status, 0), pid);
	server_stop(&s);
	CHECK(CHECK_HERE, WIFEXITED(status));
	CHECK_INT(CHECK_HERE, WEXITSTATUS(status), 0);
	json_object_put(req);
}

static void test_request_too_long(void **state)
{
	struct json_object *req = status_req(), *reply;
	struct server s;
	char *big = malloc(SL_CTL_MAX_REQUEST + 1);

	(void)state;
	memset(big, 'a', SL_CTL_MAX_REQUEST);
	big[SL_CTL_MAX_REQUEST] = '\0';
	json_object_object_add(req, "junk", json_object_new_string(big));
	server_start(&s, NULL, 0);
	CHECK_INT(CHECK_HERE, sl_ctl_call(s.path, req, &reply, 1000),
		  -EMSGSIZE);
	server_stop(&s);
	free(big);
	json_object_put(req);
}

/* --- drain --wait over the socket --------------------------------------- */

struct waitctx {
	const char *sock;		/* real socket, or NULL for the script */
	const int *errs;		/* scripted: -errno per call (0 = reply) */
	const char *const *replies;	/* scripted: reply per call */
	size_t n, i;			/* script length; the last entry repeats */
	size_t stop_at;			/* raise the stop flag on this call (1-based) */
	__u64 now;
	volatile sig_atomic_t stop;
	char cmds[64][32];		/* "cmd" of every request, in order */
	size_t ncmds;
};

static int wait_call(const struct sl_cli_io *io, struct json_object *req,
		     struct json_object **reply)
{
	struct waitctx *w = io->ctx;
	struct json_object *cmd;
	size_t k;

	*reply = NULL;
	if (w->ncmds < ARRAY_SIZE(w->cmds) && json_object_object_get_ex(req, "cmd", &cmd))
		snprintf(w->cmds[w->ncmds++], sizeof(w->cmds[0]), "%s",
			 json_object_get_string(cmd));
	if (w->sock)
		return sl_ctl_call(w->sock, req, reply, 2000);
	k = w->i < w->n ? w->i : w->n - 1;
	w->i++;
	if (w->stop_at && w->i == w->stop_at)
		w->stop = 1;
	if (w->errs && w->errs[k])
		return w->errs[k];
	*reply = json_tokener_parse(w->replies[k]);
	return *reply ? 0 : -EPROTO;
}

static __u64 wait_now(const struct sl_cli_io *io)
{
	return ((struct waitctx *)io->ctx)->now;
}

/* Time passes only when the loop sleeps: runs take no real time. */
static void wait_sleep(const struct sl_cli_io *io, unsigned int ms)
{
	((struct waitctx *)io->ctx)->now += ms;
}

struct run_out {
	int ret;
	char *out, *err;
	size_t outlen, errlen;
};

static void run_wait(const char *line, struct waitctx *w, bool tty, struct run_out *r)
{
	static char buf[512];
	char *argv[16], *tok, *save, err[256];
	struct sl_cli_cmd cmd;
	struct sl_cli_io io = {
		.call = wait_call,
		.now_ms = wait_now,
		.mono_ms = wait_now,
		.sleep_ms = wait_sleep,
		.ctx = w,
		.err_tty = tty,
		.stop = &w->stop,
	};
	int argc = 0;

	snprintf(buf, sizeof(buf), "%s", line);
	argv[argc++] = "sluicectl";
	for (tok = strtok_r(buf, " ", &save); tok && argc < 15; tok = strtok_r(NULL, " ", &save))
		argv[argc++] = tok;
	argv[argc] = NULL;
	w->now = T0;
	CHECK_INT(CHECK_HERE,
		  sl_cli_build_request(argc, argv, &cmd, err, sizeof(err)), 0);
	memset(r, 0, sizeof(*r));
	io.out = open_memstream(&r->out, &r->outlen);
	io.err = open_memstream(&r->err, &r->errlen);
	r->ret = sl_cli_run(&cmd, &io);
	fclose(io.out);
	fclose(io.err);
	sl_cli_cmd_free(&cmd);
}

static void run_free(struct run_out *r)
{
	free(r->out);
	free(r->err);
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (; (hay = strstr(hay, needle)); hay++)
		n++;
	return n;
}

#define DRAIN_REPLY \
	"{\"ok\":true,\"result\":[{\"vip\":\"198.18.0.100:80/tcp\",\"backend\":\"198.18.1.10\"," \
	"\"state\":\"draining\",\"flows\":5,\"deadline_unix_ms\":1700000060000}]}\n"
#define STATUS(state, flows, timed_out, left) \
	"{\"ok\":true,\"result\":[{\"vip\":\"198.18.0.100:80/tcp\",\"backend\":\"198.18.1.10\"," \
	"\"state\":\"" state "\",\"health\":\"up\",\"flows\":" #flows ",\"timed_out\":" \
	#timed_out ",\"flows_left\":" #left ",\"drain_started_unix_ms\":1700000000000," \
	"\"deadline_unix_ms\":1700000060000}]}\n"

static void test_wait_drained(void **state)
{
	static const struct step steps[] = {
		{ STEP_REPLY, DRAIN_REPLY },
		{ STEP_REPLY, STATUS("draining", 5, false, 0) },
		{ STEP_REPLY, STATUS("draining", 2, false, 0) },
		{ STEP_REPLY, STATUS("drained", 0, false, 0) },
	};
	struct waitctx w = { 0 };
	struct run_out r;
	struct server s;
	char line[256];

	(void)state;
	server_start(&s, steps, ARRAY_SIZE(steps));
	w.sock = s.path;
	snprintf(line, sizeof(line),
		 "-s %s backend drain 198.18.0.100:80/tcp 198.18.1.10 --wait --timeout 1m", s.path);
	run_wait(line, &w, false, &r);
	server_stop(&s);

	CHECK_INT(CHECK_HERE, r.ret, SL_CLI_EXIT_OK);
	CHECK_STR(
		CHECK_HERE, s.reqs[0],
		"{\"cmd\":\"backend.drain\",\"vip\":\"198.18.0.100:80/tcp\",\"backend\":\"198.18.1.10\","
		"\"timeout_ms\":60000}\n");
	CHECK_STR(
		CHECK_HERE, s.reqs[1],
		"{\"cmd\":\"backend.status\",\"vip\":\"198.18.0.100:80/tcp\",\"backend\":\"198.18.1.10\"}\n");
	/* Not a terminal: one line per change of the count, none repeated. */
	CHECK_STR(
		CHECK_HERE, r.err,
		"draining 198.18.1.10 on 198.18.0.100:80/tcp: 5 flows left, 1m to deadline\n"
		"draining 198.18.1.10 on 198.18.0.100:80/tcp: 2 flows left, 1m to deadline\n");
	CHECK_STR(CHECK_HERE, r.out,
		  "drained 198.18.1.10 on 198.18.0.100:80/tcp\n");
	/* Polled every 250 ms of the (fake) clock. */
	CHECK_INT(CHECK_HERE, w.now, T0 + 3 * SL_CLI_POLL_MS);
	run_free(&r);
}

static void test_wait_timed_out(void **state)
{
	static const struct step steps[] = {
		{ STEP_REPLY, DRAIN_REPLY },
		{ STEP_REPLY, STATUS("draining", 4, false, 0) },
		{ STEP_REPLY, STATUS("drained", 0, true, 4) },
	};
	struct waitctx w = { 0 };
	struct run_out r;
	struct server s;
	char line[256];
	struct json_object *out;

	(void)state;
	server_start(&s, steps, ARRAY_SIZE(steps));
	w.sock = s.path;
	snprintf(line, sizeof(line), "-j -s %s backend drain 198.18.0.100:80/tcp 198.18.1.10 --wait",
		 s.path);
	run_wait(line, &w, false, &r);
	server_stop(&s);

	CHECK_INT(CHECK_HERE, r.ret, SL_CLI_EXIT_DRAIN_TIMEOUT);
	CHECK_CONTAINS(
		CHECK_HERE, r.err,
		"sluicectl: drain of 198.18.1.10 on 198.18.0.100:80/tcp timed out with 4 flows left\n");
	/* -j: the final backend.status result, for pipelines. */
	out = json_tokener_parse(r.out);
	CHECK_NONNULL(CHECK_HERE, out);
	CHECK(CHECK_HERE, json_object_is_type(out, json_type_array));
	json_object_put(out);
	run_free(&r);
}

/* --- drain --wait over scripted calls ----------------------------------- */

static void test_wait_every_vip(void **state)
{
	static const char *const replies[] = {
		"{\"ok\":true,\"result\":[{\"vip\":\"v1\",\"backend\":\"198.18.1.10\",\"state\":\"draining\","
		"\"flows\":2},{\"vip\":\"v2\",\"backend\":\"198.18.1.10\",\"state\":\"draining\",\"flows\":3}]}",
		"{\"ok\":true,\"result\":[{\"vip\":\"v1\",\"backend\":\"198.18.1.10\",\"state\":\"drained\","
		"\"timed_out\":false,\"flows_left\":0},{\"vip\":\"v2\",\"backend\":\"198.18.1.10\","
		"\"state\":\"drained\",\"timed_out\":true,\"flows_left\":3}]}",
	};
	struct waitctx w = { .replies = replies, .n = ARRAY_SIZE(replies) };
	struct run_out r;

	(void)state;
	run_wait("backend drain 198.18.1.10 --wait", &w, false, &r);
	CHECK_INT(CHECK_HERE, r.ret, SL_CLI_EXIT_DRAIN_TIMEOUT);
	CHECK_STR(
		CHECK_HERE, r.err,
		"draining 198.18.1.10 on 2 VIPs: 5 flows left\n"
		"sluicectl: drain of 198.18.1.10 on v2 timed out with 3 flows left\n");
	CHECK_STR(CHECK_HERE, r.out, "drained 198.18.1.10 on v1\n");
	run_free(&r);
}

static void test_wait_daemon_restarts(void **state)
{
	static const int errs[] = { 0, -ECONNREFUSED, -ENOENT, -ECONNREFUSED, 0 };
	static const char *const replies[] = {
		DRAIN_REPLY, NULL, NULL, NULL, STATUS("drained", 0, false, 0),
	};
	struct waitctx w = { .errs = errs, .replies = replies, .n = ARRAY_SIZE(errs) };
	struct run_out r;

	(void)state;
	run_wait("backend drain 198.18.0.100:80/tcp 198.18.1.10 --wait", &w, false, &r);
	CHECK_INT(CHECK_HERE, r.ret, SL_CLI_EXIT_OK);
	/* One note, however long the outage. */
	CHECK_INT(CHECK_HERE, count(r.err, "lost contact with sluiced"), 1);
	CHECK_CONTAINS(
		CHECK_HERE, r.err,
		"sluicectl: lost contact with sluiced (Connection refused); "
		"retrying for up to 1m30s\n");
	CHECK_STR(CHECK_HERE, r.out,
		  "drained 198.18.1.10 on 198.18.0.100:80/tcp\n");
	run_free(&r);
}

/*
 * Handshakes hold a drain too, and the progress line says so (README:
 * "... 3 flows and 1 handshake left ..."); a new line when either count
 * moves. The deadline is 4m59s away at every poll (rounded up).
 */
#define HS_STATUS(flows, hs)                                                                     \
	"{\"ok\":true,\"result\":[{\"vip\":\"198.18.0.100:80/tcp\",\"backend\":\"198.18.1.10\"," \
	"\"state\":\"draining\",\"flows\":" #flows ",\"handshakes\":" #hs                        \
	",\"deadline_unix_ms\":1700000299000}]}"

static void test_wait_handshakes(void **state)
{
	static const char *const replies[] = {
		HS_STATUS(3, 1),
		HS_STATUS(3, 1),
		HS_STATUS(3, 0),
		HS_STATUS(0, 2),
		STATUS("drained", 0, false, 0),
	};
	struct waitctx w = { .replies = replies, .n = ARRAY_SIZE(replies) };
	struct run_out r;

	(void)state;
	run_wait("backend drain 198.18.0.100:80/tcp 198.18.1.10 --wait", &w,
		 false, &r);
	CHECK_INT(CHECK_HERE, r.ret, SL_CLI_EXIT_OK);
	CHECK_STR(
		CHECK_HERE, r.err,
		"draining 198.18.1.10 on 198.18.0.100:80/tcp: 3 flows and 1 handshake left, "
		"4m59s to deadline\n"
		"draining 198.18.1.10 on 198.18.0.100:80/tcp: 3 flows left, "
		"4m59s to deadline\n"
		"draining 198.18.1.10 on 198.18.0.100:80/tcp: 0 flows and 2 handshakes left, "
		"4m59s to deadline\n");
	CHECK_STR(CHECK_HERE, r.out,
		  "drained 198.18.1.10 on 198.18.0.100:80/tcp\n");
	run_free(&r);
}

/* "too many control connections" is transient: retried like a restart. */
#define BUSY "{\"ok\":false,\"error\":\"too many control connections\",\"errno\":\"EBUSY\"}"

static void test_wait_busy_retried(void **state)
{
	static const char *const replies[] = {
		DRAIN_REPLY, BUSY, BUSY, STATUS("draining", 1, false, 0), BUSY,
		STATUS("drained", 0, false, 0),
	};
	struct waitctx w = { .replies = replies, .n = ARRAY_SIZE(replies) };
	struct run_out r;

	(void)state;
	run_wait("backend drain 198.18.0.100:80/tcp 198.18.1.10 --wait", &w, false, &r);
	CHECK_INT(CHECK_HERE, r.ret, SL_CLI_EXIT_OK);
	CHECK_INT(
		CHECK_HERE,
		count(r.err,
		      "lost contact with sluiced (too many control connections)"),
		1);
	CHECK_STR(CHECK_HERE, r.out,
		  "drained 198.18.1.10 on 198.18.0.100:80/tcp\n");
	run_free(&r);
}

/* ... but not for ever: until the deadline plus the grace, then exit 1. */
static void test_wait_busy_for_good(void **state)
{
	static const char *const replies[] = { DRAIN_REPLY, BUSY };
	struct waitctx w = { .replies = replies, .n = ARRAY_SIZE(replies) };
	struct run_out r;

	(void)state;
	run_wait("backend drain 198.18.0.100:80/tcp 198.18.1.10 --wait", &w, false, &r);
	CHECK_INT(CHECK_HERE, r.ret, SL_CLI_EXIT_FAIL);
	CHECK(CHECK_HERE, w.now >= 1700000060000ULL + SL_CLI_LOST_GRACE_MS);
	CHECK(CHECK_HERE, w.now < 1700000060000ULL + SL_CLI_LOST_GRACE_MS +
					  2 * SL_CLI_POLL_MS);
	CHECK_CONTAINS(CHECK_HERE, r.err,
		       "sluiced kept refusing: too many control connections");
	run_free(&r);
}

/* A re-drain says what happened to the deadline. */
static void test_redrain_notes(void **state)
{
	static const char *const moved[] = {
		"{\"ok\":true,\"result\":[{\"vip\":\"v1\",\"backend\":\"198.18.1.10\","
		"\"state\":\"draining\",\"flows\":5,\"deadline_unix_ms\":1700000030000,"
		"\"deadline\":\"moved\",\"previous_deadline_unix_ms\":1700000600000}]}",
	};
	static const char *const kept[] = {
		"{\"ok\":true,\"result\":[{\"vip\":\"v1\",\"backend\":\"198.18.1.10\","
		"\"state\":\"draining\",\"flows\":5,\"deadline_unix_ms\":1700000600000,"
		"\"deadline\":\"kept\"}]}",
	};
	struct waitctx w = { .replies = moved, .n = 1 };
	struct run_out r;

	(void)state;
	run_wait("backend drain 198.18.1.10 --timeout 30s", &w, false, &r);
	CHECK_INT(CHECK_HERE, r.ret, SL_CLI_EXIT_OK);
	CHECK_STR(CHECK_HERE, r.err,
		  "sluicectl: 198.18.1.10 on v1 was already draining: deadline "
		  "moved to 30s from now (was 10m)\n");
	run_free(&r);
	w = (struct waitctx){ .replies = kept, .n = 1 };
	run_wait("backend drain 198.18.1.10", &w, false, &r);
	CHECK_INT(CHECK_HERE, r.ret, SL_CLI_EXIT_OK);
	CHECK_STR(CHECK_HERE, r.err,
		  "sluicectl: 198.18.1.10 on v1 was already draining: deadline "
		  "kept (10m from now); give --timeout to move it\n");
	run_free(&r);
}

static void test_wait_daemon_gone(void **state)
{
	static const int errs[] = { 0, -ECONNREFUSED };
	static const char *const replies[] = { DRAIN_REPLY, NULL };
	struct waitctx w = { .errs = errs, .replies = replies, .n = ARRAY_SIZE(errs) };
	struct run_out r;

	(void)state;
	run_wait("backend drain 198.18.0.100:80/tcp 198.18.1.10 --wait", &w, false, &r);
	CHECK_INT(CHECK_HERE, r.ret, SL_CLI_EXIT_FAIL);
	/* Retried quietly until the deadline (T0 + 60 s) plus 30 s. */
	CHECK(CHECK_HERE, w.now >= 1700000060000ULL + SL_CLI_LOST_GRACE_MS);
	CHECK(CHECK_HERE, w.now < 1700000060000ULL + SL_CLI_LOST_GRACE_MS +
					  2 * SL_CLI_POLL_MS);
	CHECK_INT(CHECK_HERE, count(r.err, "lost contact"), 1);
	CHECK_CONTAINS(CHECK_HERE, r.err,
		       "sluicectl: cannot drain backend 198.18.1.10 on "
		       "198.18.0.100:80/tcp: cannot connect to ");
	CHECK_CONTAINS(CHECK_HERE, r.err, "hint: is sluiced running?");
	run_free(&r);
}

static void test_wait_interrupted(void **state)
{
	static const char *const replies[] = { DRAIN_REPLY, STATUS("draining", 5, false, 0) };
	struct waitctx w = { .replies = replies, .n = ARRAY_SIZE(replies), .stop_at = 3 };
	struct run_out r;
	size_t i;

	(void)state;
	run_wait("backend drain 198.18.0.100:80/tcp 198.18.1.10 --wait", &w, true, &r);
	CHECK_INT(CHECK_HERE, r.ret, SL_CLI_EXIT_INTERRUPTED);
	CHECK_CONTAINS(
		CHECK_HERE, r.err,
		"\nsluicectl: interrupted; the drain goes on in sluiced "
		"(to cancel it: sluicectl backend undrain 198.18.0.100:80/tcp 198.18.1.10)\n");
	/* Never undrains on its own. */
	for (i = 0; i < w.ncmds; i++)
		CHECK_STR_NE(CHECK_HERE, w.cmds[i], "backend.undrain");
	CHECK_INT(CHECK_HERE, w.ncmds, 3);
	run_free(&r);
}

static void test_wait_tty_progress(void **state)
{
	static const char *const replies[] = {
		DRAIN_REPLY, STATUS("draining", 5, false, 0), STATUS("draining", 5, false, 0),
		STATUS("drained", 0, false, 0),
	};
	struct waitctx w = { .replies = replies, .n = ARRAY_SIZE(replies) };
	struct run_out r;

	(void)state;
	run_wait("backend drain 198.18.0.100:80/tcp 198.18.1.10 --wait", &w, true, &r);
	CHECK_INT(CHECK_HERE, r.ret, SL_CLI_EXIT_OK);
	/* Rewritten in place on every poll, the line ended once at the end. */
	CHECK_INT(CHECK_HERE, count(r.err, "\r"), 3);
	CHECK_INT(CHECK_HERE, count(r.err, "\033[K"), 3);
	CHECK_INT(CHECK_HERE, count(r.err, "\n"), 1);
	/* 59.5 s left shows as 1m: rounded up, so 0s never shows before the end. */
	CHECK_CONTAINS(
		CHECK_HERE, r.err,
		"\rdraining 198.18.1.10 on 198.18.0.100:80/tcp: 5 flows left, "
		"1m to deadline\033[K\n");
	run_free(&r);
}

static void test_wait_failures(void **state)
{
	static const struct {
		const char *name;
		const char *second;	/* reply to the first backend.status */
		const char *msg;
	} cases[] = {
		{ "undrained meanwhile",
		  "{\"ok\":true,\"result\":[{\"vip\":\"198.18.0.100:80/tcp\",\"backend\":\"198.18.1.10\","
		  "\"state\":\"active\"}]}",
		  "cannot drain backend 198.18.1.10 on 198.18.0.100:80/tcp: the backend is active again" },
		{ "deleted meanwhile",
		  "{\"ok\":false,\"error\":\"no such backend\",\"errno\":\"ENOENT\"}",
		  "cannot drain backend 198.18.1.10 on 198.18.0.100:80/tcp: no such backend\n" },
		{ "empty status", "{\"ok\":true,\"result\":[]}", "sluiced no longer lists the backend" },
		{ "garbage status", "{\"ok\":true,\"result\":{}}", "malformed backend.status reply" },
	};
	struct waitctx w;
	struct run_out r;
	const char *replies[2];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		memset(&w, 0, sizeof(w));
		replies[0] = DRAIN_REPLY;
		replies[1] = cases[i].second;
		w.replies = replies;
		w.n = 2;
		run_wait("backend drain 198.18.0.100:80/tcp 198.18.1.10 --wait", &w, false, &r);
		if (r.ret != SL_CLI_EXIT_FAIL || !strstr(r.err, cases[i].msg)) {
			print_error("case \"%s\": exit %d, stderr:\n%s\n", cases[i].name, r.ret, r.err);
			fail();
		}
		run_free(&r);
	}
}

/* A drain sluiced never finishes must not hang a pipeline forever. */
static void test_wait_stuck(void **state)
{
	static const char *const replies[] = { DRAIN_REPLY, STATUS("draining", 1, false, 0) };
	struct waitctx w = { .replies = replies, .n = ARRAY_SIZE(replies) };
	struct run_out r;

	(void)state;
	run_wait("backend drain 198.18.0.100:80/tcp 198.18.1.10 --wait", &w, false, &r);
	CHECK_INT(CHECK_HERE, r.ret, SL_CLI_EXIT_FAIL);
	CHECK(CHECK_HERE, w.now > 1700000060000ULL + SL_CLI_STUCK_GRACE_MS);
	CHECK_CONTAINS(CHECK_HERE, r.err,
		       "still reports it draining 2m after its deadline");
	run_free(&r);
}

/* The drain itself refused: no polling at all. */
static void test_drain_refused(void **state)
{
	static const char *const replies[] = {
		"{\"ok\":false,\"error\":\"no such backend\",\"hint\":\"check sluicectl backend list\"}",
	};
	struct waitctx w = { .replies = replies, .n = 1 };
	struct run_out r;

	(void)state;
	run_wait("backend drain 198.18.0.100:80/tcp 198.18.1.10 --wait", &w, false, &r);
	CHECK_INT(CHECK_HERE, r.ret, SL_CLI_EXIT_FAIL);
	CHECK_STR(
		CHECK_HERE, r.err,
		"sluicectl: cannot drain backend 198.18.1.10 on 198.18.0.100:80/tcp: no such backend\n"
		"hint: check sluicectl backend list\n");
	CHECK_INT(CHECK_HERE, w.ncmds, 1);
	run_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_reply_shapes),
		cmocka_unit_test(test_reload_outcome),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_unreachable),
		cmocka_unit_test(test_permission_denied),
		cmocka_unit_test(test_request_too_long),
		cmocka_unit_test(test_wait_drained),
		cmocka_unit_test(test_wait_timed_out),
		cmocka_unit_test(test_wait_every_vip),
		cmocka_unit_test(test_wait_handshakes),
		cmocka_unit_test(test_wait_daemon_restarts),
		cmocka_unit_test(test_wait_daemon_gone),
		cmocka_unit_test(test_wait_busy_retried),
		cmocka_unit_test(test_wait_busy_for_good),
		cmocka_unit_test(test_redrain_notes),
		cmocka_unit_test(test_wait_interrupted),
		cmocka_unit_test(test_wait_tty_progress),
		cmocka_unit_test(test_wait_failures),
		cmocka_unit_test(test_wait_stuck),
		cmocka_unit_test(test_drain_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
