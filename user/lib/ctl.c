/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Control-socket client: one JSON request line out, one JSON reply line back. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "json_get.h"
#include "settings.h"

/* A reply may be a large table (backend.list of many VIPs); bound it anyway. */
#define CTL_MAX_REPLY		SL_CTL_MAX_REPLY
#define CTL_READ_CHUNK		4096
/* How long to back off when the daemon's listen backlog is full. */
#define CTL_BACKLOG_RETRY_MS	10

/*
 * Deadline arithmetic on CLOCK_MONOTONIC, so a wall-clock step (NTP) can
 * neither cut a call short nor stretch it. A negative timeout never expires.
 */
struct ctl_clock {
	bool forever;
	long long deadline_ms;
};

static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void clock_start(struct ctl_clock *c, int timeout_ms)
{
	c->forever = timeout_ms < 0;
	c->deadline_ms = mono_ms() + (timeout_ms < 0 ? 0 : timeout_ms);
}

/* Milliseconds left for poll(): -1 = forever, 0 = expired. */
static int clock_left(const struct ctl_clock *c)
{
	long long left;

	if (c->forever)
		return -1;
	left = c->deadline_ms - mono_ms();
	return left > 0 ? (int)left : 0;
}

/* Wait for events on fd: 0 when ready, -ETIMEDOUT, or -errno (-EINTR too). */
static int wait_fd(int fd, short events, const struct ctl_clock *c)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	int n;

	/*
	 * EINTR goes back to the caller: sluicectl sets a flag in its SIGINT
	 * handler and must get control back to act on it.
	 */
	n = poll(&pfd, 1, clock_left(c));
	if (n < 0)
		return -errno;
	if (n == 0)
		return -ETIMEDOUT;
	return 0;
}

/*
 * Non-blocking connect: on a Unix socket it completes at once or fails
 * with EAGAIN when the listener's backlog is full, so retry that until the
 * deadline instead of blocking without a bound.
 */
static int ctl_connect(const char *path, const struct ctl_clock *c, int *fdp)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd, ret;

	if (strlen(path) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	strcpy(sun.sun_path, path);

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	while (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		ret = -errno;
		if (ret == -EAGAIN && clock_left(c) != 0) {
			poll(NULL, 0, CTL_BACKLOG_RETRY_MS);
			continue;
		}
		close(fd);
		return ret == -EAGAIN ? -ETIMEDOUT : ret;
	}
	*fdp = fd;
	return 0;
}

static int send_all(int fd, const char *buf, size_t len, const struct ctl_clock *c)
{
	ssize_t n;
	int ret;

	while (len) {
		/* MSG_NOSIGNAL: a daemon that went away is an error, not SIGPIPE. */
		n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				return -errno;
			ret = wait_fd(fd, POLLOUT, c);
			if (ret)
				return ret;
			continue;
		}
		buf += n;
		len -= n;
	}
	return 0;
}

/* Serialise req as one line: plain JSON never contains a raw newline. */
static int send_request(int fd, struct json_object *req, const struct ctl_clock *c)
{
	const char *s;
	size_t len;
	int ret;

	s = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN |
					   JSON_C_TO_STRING_NOSLASHESCAPE);
	if (!s)
		return -ENOMEM;
	len = strlen(s);
	/* The daemon would refuse it and hang up; say why here instead. */
	if (len + 1 > SL_CTL_MAX_REQUEST)
		return -EMSGSIZE;
	ret = send_all(fd, s, len, c);
	if (ret)
		return ret;
	return send_all(fd, "\n", 1, c);
}

/* Grow *buf so that at least CTL_READ_CHUNK bytes (and a NUL) fit after *len. */
static int grow(char **buf, size_t *cap, size_t len)
{
	size_t want = len + CTL_READ_CHUNK + 1;
	char *p;

	if (want <= *cap)
		return 0;
	if (want < *cap * 2)
		want = *cap * 2;
	if (want > CTL_MAX_REPLY + CTL_READ_CHUNK + 1)
		want = CTL_MAX_REPLY + CTL_READ_CHUNK + 1;
	p = realloc(*buf, want);
	if (!p)
		return -ENOMEM;
	*buf = p;
	*cap = want;
	return 0;
}

/*
 * Read up to the first newline (replaced by NUL) into a malloc'd buffer.
 * EOF before a newline still returns what arrived, so a daemon that
 * forgets the newline before closing is tolerated; EOF before any byte
 * is -ECONNRESET.
 */
static int read_line(int fd, char **out, size_t *outlen, const struct ctl_clock *c)
{
	size_t len = 0, cap = 0;
	char *buf = NULL, *nl;
	ssize_t n;
	int ret;

	for (;;) {
		if (len > CTL_MAX_REPLY) {
			ret = -EMSGSIZE;
			goto fail;
		}
		ret = grow(&buf, &cap, len);
		if (ret)
			goto fail;
		n = recv(fd, buf + len, cap - len - 1, 0);
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR) {
				ret = -errno;
				goto fail;
			}
			ret = wait_fd(fd, POLLIN, c);
			if (ret)
				goto fail;
			continue;
		}
		if (n == 0) {
			/* Closed without a word (e.g. a refused request). */
			if (!len) {
				ret = -ECONNRESET;
				goto fail;
			}
			break;
		}
		nl = memchr(buf + len, '\n', n);
		len += n;
		if (nl) {
			len = nl - buf;
			break;
		}
	}
	if (len > CTL_MAX_REPLY) {
		ret = -EMSGSIZE;
		goto fail;
	}
	buf[len] = '\0';
	*out = buf;
	*outlen = len;
	return 0;
fail:
	free(buf);
	return ret;
}

/* The whole line must be one JSON object; anything else is not our daemon. */
static int parse_reply(const char *line, size_t len, struct json_object **reply)
{
	struct json_tokener *tok;
	struct json_object *obj;
	size_t used;

	if (len > (size_t)INT32_MAX)
		return -EMSGSIZE;
	tok = json_tokener_new();
	if (!tok)
		return -ENOMEM;
	obj = json_tokener_parse_ex(tok, line, (int)len);
	used = json_tokener_get_parse_end(tok);
	if (obj && json_tokener_get_error(tok) == json_tokener_success) {
		while (used < len && (line[used] == ' ' || line[used] == '\t' ||
				      line[used] == '\r'))
			used++;
	}
	json_tokener_free(tok);
	if (!obj || used != len || !json_object_is_type(obj, json_type_object)) {
		json_object_put(obj);
		return -EPROTO;
	}
	*reply = obj;
	return 0;
}

/*
 * timeout_ms bounds the whole call (connect, send, reply); negative waits
 * forever. Errors: the connect() errno (-ENOENT, -ECONNREFUSED, -EACCES...),
 * -ETIMEDOUT, -EPROTO (reply not a JSON object), -ECONNRESET (closed
 * without a reply), -EMSGSIZE (request or reply too long), -EINTR (a
 * signal arrived: the caller decides whether to retry).
 */
int sl_ctl_call(const char *sock_path, struct json_object *req,
		struct json_object **reply, int timeout_ms)
{
	struct ctl_clock c;
	char *line = NULL;
	size_t len = 0;
	int fd = -1, ret;

	if (!reply)
		return -EINVAL;
	*reply = NULL;
	if (!sock_path || !req)
		return -EINVAL;
	clock_start(&c, timeout_ms);
	ret = ctl_connect(sock_path, &c, &fd);
	if (ret)
		return ret;
	ret = send_request(fd, req, &c);
	/*
	 * A daemon that refuses us (not root, too many connections) replies
	 * and closes before reading: our send then fails, but its reply,
	 * which says why, is waiting. Read it; keep the send error only if
	 * there is nothing to read.
	 */
	if (!ret || ret == -EPIPE || ret == -ECONNRESET) {
		int rd = read_line(fd, &line, &len, &c);

		if (!rd || !ret)
			ret = rd;
	}
	close(fd);
	if (ret) {
		free(line);
		return ret;
	}
	ret = parse_reply(line, len, reply);
	free(line);
	return ret;
}

void sl_ctl_setting_add(void *arr, const char *name, const char *running,
			const char *file)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, SL_CTL_KEY_SETTING, json_object_new_string(name));
	json_object_object_add(o, SL_CTL_KEY_RUNNING, json_object_new_string(running));
	json_object_object_add(o, SL_CTL_KEY_FILE, json_object_new_string(file));
	if (sl_setting_restart_note(name))
		json_object_object_add(o, SL_CTL_KEY_NOTE,
				       json_object_new_string(sl_setting_restart_note(name)));
	json_object_array_add(arr, o);
}

bool sl_ctl_reload_applied(json_object *result, char *why, size_t len)
{
	const char *text = sl_json_str(result, SL_CTL_KEY_REJECTED);
	size_t i;

	if (sl_json_true(result, SL_CTL_KEY_APPLIED)) {
		if (len)
			why[0] = '\0';
		return true;
	}
	if (!text || !*text)
		text = "no reason given";
	if (!len)
		return false;
	snprintf(why, len, "%.*s", (int)strcspn(text, "\n"), text);
	for (i = 0; why[i]; i++)
		if ((unsigned char)why[i] < 0x20 || why[i] == 0x7f)
			why[i] = ' ';
	return false;
}
