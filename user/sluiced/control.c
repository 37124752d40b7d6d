// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The control socket (protocol in user/lib/ctl.h): non-blocking clients
 * on the main epoll loop, one JSON request and one JSON reply per line.
 * Every request is validated; a malformed one gets an error reply, an
 * oversized one closes the connection, and a client that stalls is
 * dropped after a while without holding anyone else up.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <json-c/json.h>

#include "ctl.h"
#include "ctl_ops.h"
#include "daemon.h"

#define CLIENT_IDLE_MS 30000

/*
 * Commands that only read: every other one is a control action, audited
 * with its arguments. config.dump must stay here: its "compare" argument
 * carries the etcd password from `config diff`.
 */
static const char *const read_only_cmds[] = {
	SL_CTL_CMD_STATUS, SL_CTL_CMD_VIP_LIST, SL_CTL_CMD_BACKEND_LIST,
	SL_CTL_CMD_BACKEND_STATUS,
	SL_CTL_CMD_CONFIG_DUMP, SL_CTL_CMD_FLOWS,
};

static bool is_read_only(const char *cmd)
{
	size_t i;

	for (i = 0; i < sizeof(read_only_cmds) / sizeof(read_only_cmds[0]); i++)
		if (!strcmp(cmd, read_only_cmds[i]))
			return true;
	return false;
}

/* "uid=4294967295 pid=4294967295 cmd=" 64 " args=" 512, and room. */
#define AUDIT_WHO_MAX 640

/*
 * One line per control action: who (the peer's uid and pid), what (the
 * command and its arguments, re-serialised from the parsed request, so no
 * raw client bytes reach the log) and the result. Unparseable requests
 * change nothing and are not actions. Fills @who with who and what;
 * false when @cmd is not audited.
 */
static bool audit_who(const struct sl_client *c, json_object *req,
		      const char *cmd, char *who, size_t len)
{
	json_object *args;
	const char *text;

	if (!c || !cmd || is_read_only(cmd))
		return false;
	args = json_object_new_object();
	json_object_object_foreach(req, key, val) {
		if (strcmp(key, "cmd"))
			json_object_object_add(args, key, json_object_get(val));
	}
	text = json_object_to_json_string_ext(args, JSON_C_TO_STRING_PLAIN |
						 JSON_C_TO_STRING_NOSLASHESCAPE);
	snprintf(who, len, "uid=%u pid=%u cmd=%.64s args=%.512s", c->uid,
		 c->pid, cmd, text);
	json_object_put(args);
	return true;
}

/* A failed action (@errname set) at warning priority. */
static void audit_write(const char *who, const char *errname, const char *error)
{
	if (errname)
		sl_warn("audit: %s result=error %s: %s", who, errname, error);
	else
		sl_info("audit: %s result=ok", who);
}

/*
 * A reload is answered once it is over, and so is it audited: with its
 * outcome, not with "it was asked for".
 */
static void audit_defer(struct sl_daemon *d, const char *who, __u64 gen)
{
	struct sl_audit_due *a;
	size_t i;

	for (i = 0; i < SL_AUDIT_DUE_MAX; i++) {
		a = &d->audit_due[i];
		if (a->who)
			continue;
		a->who = strdup(who);
		if (!a->who)
			break;
		a->reload_gen = gen;
		return;
	}
	/* No room (out of memory, or many clients that hung up): one line now. */
	sl_info("audit: %s result=pending: the reload's outcome is its \"reloaded\" or "
		"\"reload rejected\" line",
		who);
}

/* The audit lines due once every reload up to @gen is over, with its outcome. */
static void audit_due_write(struct sl_daemon *d, __u64 gen, const char *errname,
			    const char *error)
{
	struct sl_audit_due *a;
	size_t i;

	for (i = 0; i < SL_AUDIT_DUE_MAX; i++) {
		a = &d->audit_due[i];
		if (!a->who || a->reload_gen > gen)
			continue;
		audit_write(a->who, errname, error);
		free(a->who);
		a->who = NULL;
	}
}

static void dispatch(struct sl_daemon *d, const struct sl_client *c,
		     const char *line, struct sl_ctl_reply *r)
{
	json_object *req = json_tokener_parse(line);
	char who[AUDIT_WHO_MAX];
	const char *cmd = NULL;

	if (!req || !json_object_is_type(req, json_type_object)) {
		sl_ctl_fail(r, "EINVAL", "send one JSON object per line, e.g. {\"cmd\":\"status\"}",
		     "request is not a JSON object");
		goto out;
	}
	cmd = sl_ctl_arg_str(req, "cmd");
	if (!cmd) {
		sl_ctl_fail(r, "EINVAL", NULL, "request has no string \"cmd\"");
		goto out;
	}
	if (sl_ctl_ops_find(cmd)) {
		sl_ctl_ops_find(cmd)(d, req, r);
		if (r->deferred && !c) {
			/* sl_ctl_handle() has no connection to answer later. */
			r->deferred = false;
			sl_ctl_fail(r, "EINVAL", NULL, "%.64s needs a control connection", cmd);
		}
		if (audit_who(c, req, cmd, who, sizeof(who))) {
			if (r->deferred)
				audit_defer(d, who, r->reload_gen);
			else
				audit_write(who, r->errname, r->error);
		}
		goto out;
	}
	sl_ctl_fail(r, "EINVAL", "commands: status, vip.list, vip.add, vip.del, backend.add, "
	     "backend.del, backend.drain, backend.undrain, backend.list, backend.status, "
	     SL_CTL_CMD_BACKEND_SET ", " SL_CTL_CMD_RELOAD ", " SL_CTL_CMD_CONFIG_DUMP ", "
	     SL_CTL_CMD_FLOWS,
	     "unknown command \"%.64s\"", cmd);
out:
	json_object_put(req);
}

static char *reply_text(struct sl_ctl_reply *r, size_t *len)
{
	json_object *o = json_object_new_object();
	char *text;

	*len = 0;

	if (!r->errname) {
		json_object_object_add(o, "ok", json_object_new_boolean(1));
		json_object_object_add(o, "result", r->result ? r->result
							      : json_object_new_object());
	} else {
		json_object_put(r->result);
		json_object_object_add(o, "ok", json_object_new_boolean(0));
		json_object_object_add(o, "error", json_object_new_string(r->error));
		if (r->hint[0])
			json_object_object_add(o, "hint", json_object_new_string(r->hint));
		json_object_object_add(o, "errno", json_object_new_string(r->errname));
	}
	text = NULL;
	if (asprintf(&text, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN)) < 0)
		text = NULL;
	json_object_put(o);
	*len = text ? strlen(text) : 0;
	return text;
}

/*
 * The reply to @line, or NULL with @wait set when the reply comes later
 * (a reload: sl_ctl_reload_done() sends it).
 */
static char *handle(struct sl_daemon *d, const struct sl_client *c,
		    const char *line, size_t *len, struct sl_ctl_reply *r)
{
	memset(r, 0, sizeof(*r));
	dispatch(d, c, line, r);
	if (r->deferred) {
		*len = 0;
		return NULL;
	}
	return reply_text(r, len);
}

char *sl_ctl_handle_client(struct sl_daemon *d, const struct sl_client *c,
			   const char *line, size_t *len)
{
	struct sl_ctl_reply r;

	return handle(d, c, line, len, &r);
}

char *sl_ctl_handle(struct sl_daemon *d, const char *line, size_t *len)
{
	return sl_ctl_handle_client(d, NULL, line, len);
}

/* ---- connections -------------------------------------------------------- */

static void client_close(struct sl_daemon *d, struct sl_client *c)
{
	epoll_ctl(d->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c->in);
	free(c->out);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

static void client_want(struct sl_daemon *d, struct sl_client *c)
{
	struct epoll_event ev = { .data.ptr = c };

	if (c->waiting)
		ev.events = EPOLLRDHUP;
	else
		ev.events = c->out_len > c->out_off ? EPOLLOUT : EPOLLIN;
	epoll_ctl(d->epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

static void client_queue(struct sl_client *c, char *text, size_t len)
{
	free(c->out);
	c->out = text;
	c->out_len = text ? len : 0;
	c->out_off = 0;
}

static int client_flush(struct sl_client *c)
{
	ssize_t n;

	while (c->out_off < c->out_len) {
		n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
			 MSG_NOSIGNAL);
		if (n < 0)
			return errno == EAGAIN ? 0 : -errno;
		c->out_off += n;
	}
	return 0;
}

/* Handle the first complete line in the input buffer, if any. */
static void client_request(struct sl_daemon *d, struct sl_client *c)
{
	char *nl = memchr(c->in, '\n', c->in_len);
	struct sl_ctl_reply r;
	size_t used, len = 0;
	char *text;

	if (!nl)
		return;
	*nl = '\0';
	text = handle(d, c, c->in, &len, &r);
	if (r.deferred) {
		c->waiting = true;
		c->reload_gen = r.reload_gen;
	} else {
		client_queue(c, text, len);
	}
	used = nl + 1 - c->in;
	memmove(c->in, nl + 1, c->in_len - used);
	c->in_len -= used;
}

static int client_read(struct sl_daemon *d, struct sl_client *c)
{
	char buf[4096];
	ssize_t n;
	char *p;

	n = recv(c->fd, buf, sizeof(buf), 0);
	if (n <= 0)
		return n == 0 || errno != EAGAIN ? -1 : 0;
	if (c->in_len + n > SL_CTL_MAX_REQUEST) {
		struct sl_ctl_reply r;
		size_t len = 0;
		char *text;

		memset(&r, 0, sizeof(r));
		sl_ctl_fail(&r, "E2BIG", NULL, "request longer than %d bytes", SL_CTL_MAX_REQUEST);
		text = reply_text(&r, &len);
		client_queue(c, text, len);
		client_flush(c);
		return -1;
	}
	p = realloc(c->in, c->in_len + n + 1);
	if (!p)
		return -1;
	c->in = p;
	memcpy(c->in + c->in_len, buf, n);
	c->in_len += n;
	(void)d;
	return 0;
}

/*
 * Answer every complete line already buffered (a client may pipeline
 * requests in one write), but never queue a reply behind an unsent one (a
 * client that does not read stops being served) nor answer past a reply
 * that is still to come (a reload in progress).
 */
static void client_serve(struct sl_daemon *d, struct sl_client *c)
{
	while (!c->waiting && c->out_off >= c->out_len && c->in_len &&
	       memchr(c->in, '\n', c->in_len)) {
		client_request(d, c);
		/* Answered: the next request has its own deadline. */
		c->request_start_ms = c->last_active_ms;
		if (client_flush(c)) {
			client_close(d, c);
			return;
		}
	}
	client_want(d, c);
}

void sl_ctl_event(struct sl_daemon *d, struct sl_client *c, __u32 events)
{
	c->last_active_ms = sl_boot_ms();
	if (c->waiting) {
		/* Only a hang-up is watched for while its reply is due. */
		if (events & (EPOLLERR | EPOLLHUP | EPOLLRDHUP))
			client_close(d, c);
		return;
	}
	if (events & (EPOLLERR | EPOLLHUP) && !(events & EPOLLIN)) {
		client_close(d, c);
		return;
	}
	if (events & EPOLLOUT) {
		if (client_flush(c)) {
			client_close(d, c);
			return;
		}
	} else if (client_read(d, c)) {
		client_close(d, c);
		return;
	}
	client_serve(d, c);
}

/* The reload could not run: the reply's error and the audit line's. */
#define RELOAD_NOT_RUN \
	"cannot reload: the reload could not run (out of memory or threads)"

void sl_ctl_reload_done(struct sl_daemon *d, __u64 gen, json_object *result)
{
	struct sl_ctl_reply r;
	struct sl_client *c;
	char why[512];
	size_t i, len;
	char *text;

	/*
	 * A rejected file is a failed action, though its reply is "ok" (the
	 * reload ran and said no): audited at warning priority, with why.
	 */
	if (!result)
		audit_due_write(d, gen, "ENOMEM", RELOAD_NOT_RUN);
	else if (!sl_ctl_reload_applied(result, why, sizeof(why)))
		audit_due_write(d, gen, "rejected", why);
	else
		audit_due_write(d, gen, NULL, NULL);

	for (i = 0; i < sizeof(d->clients) / sizeof(d->clients[0]); i++) {
		c = &d->clients[i];
		if (c->fd < 0 || !c->waiting || c->reload_gen > gen)
			continue;
		memset(&r, 0, sizeof(r));
		r.result = result ? json_object_get(result) : NULL;
		if (!result)
			sl_ctl_fail(&r, "ENOMEM", "see sluiced's log",
				    RELOAD_NOT_RUN);
		text = reply_text(&r, &len);
		c->waiting = false;
		c->last_active_ms = c->request_start_ms = sl_boot_ms();
		client_queue(c, text, len);
		if (client_flush(c)) {
			client_close(d, c);
			continue;
		}
		client_serve(d, c);
	}
}

static bool peer_allowed(int fd, struct ucred *cred)
{
	socklen_t len = sizeof(*cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, cred, &len))
		return false;
	return cred->uid == 0 || cred->uid == geteuid();
}

void sl_ctl_accept(struct sl_daemon *d)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct sl_client *c = NULL;
	struct ucred cred;
	size_t i;
	int fd;

	fd = accept4(d->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	if (!peer_allowed(fd, &cred)) {
		static const char msg[] = "{\"ok\":false,\"error\":\"permission denied: "
			"the control socket accepts root only\",\"errno\":\"EACCES\"}\n";

		if (send(fd, msg, sizeof(msg) - 1, MSG_NOSIGNAL) < 0)
			sl_debug("cannot refuse client: %s", strerror(errno));
		close(fd);
		return;
	}
	for (i = 0; i < sizeof(d->clients) / sizeof(d->clients[0]); i++) {
		if (d->clients[i].fd < 0) {
			c = &d->clients[i];
			break;
		}
	}
	if (!c) {
		static const char msg[] = "{\"ok\":false,\"error\":\"too many control "
			"connections\",\"errno\":\"EBUSY\"}\n";

		if (send(fd, msg, sizeof(msg) - 1, MSG_NOSIGNAL) < 0)
			sl_debug("cannot refuse client: %s", strerror(errno));
		close(fd);
		return;
	}
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	c->uid = cred.uid;
	c->pid = cred.pid;
	c->last_active_ms = sl_boot_ms();
	c->request_start_ms = c->last_active_ms;
	ev.data.ptr = c;
	if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &ev))
		client_close(d, c);
}

/*
 * A client waiting for its reply to drain is judged by activity (it reads
 * or it does not); a client owing a request has SL_CTL_REQUEST_MS from
 * connecting (or from its last reply) to send the whole line, however it
 * trickles: 64 slow clients cannot hold every slot for good.
 */
static bool client_overdue(const struct sl_client *c, __u64 now)
{
	if (c->waiting)
		return false;	/* it waits for us: a reload in progress */
	if (c->out_off < c->out_len)
		return now - c->last_active_ms > CLIENT_IDLE_MS;
	return now - c->request_start_ms > SL_CTL_REQUEST_MS;
}

void sl_ctl_reap_idle(struct sl_daemon *d)
{
	__u64 now = sl_boot_ms();
	size_t i;

	for (i = 0; i < sizeof(d->clients) / sizeof(d->clients[0]); i++)
		if (d->clients[i].fd >= 0 && client_overdue(&d->clients[i], now))
			client_close(d, &d->clients[i]);
}

void sl_ctl_close_all(struct sl_daemon *d)
{
	size_t i;

	for (i = 0; i < sizeof(d->clients) / sizeof(d->clients[0]); i++)
		if (d->clients[i].fd >= 0)
			client_close(d, &d->clients[i]);
	/* Reloads asked for and never over: still one audit line each. */
	audit_due_write(d, UINT64_MAX, "ECANCELED",
			"sluiced stopped before the reload was over");
	close(d->listen_fd);
}

/* Refuse to steal the socket of a live daemon; replace a stale one. */
static int socket_in_use(const struct sockaddr_un *sa)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int live;

	if (fd < 0)
		return 0;
	live = connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0;
	close(fd);
	return live;
}

int sl_ctl_listen(struct sl_daemon *d, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *path = d->cfg.control_socket;
	char dir[sizeof(sa.sun_path)];
	char *slash;
	mode_t old;
	size_t i;

	/* fd 0 is a valid client fd when stdin is closed: -1 marks a free slot. */
	for (i = 0; i < sizeof(d->clients) / sizeof(d->clients[0]); i++)
		d->clients[i].fd = -1;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "control socket path %s is too long", path);
		return -ENAMETOOLONG;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	memcpy(dir, path, strlen(path) + 1);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0755) && errno != EEXIST) {
			snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
			return -errno;
		}
	}
	if (socket_in_use(&sa)) {
		snprintf(err, errlen, "control socket %s is in use: is another sluiced "
			 "running for instance %s?", path, d->cfg.instance);
		return -EADDRINUSE;
	}
	unlink(path);
	d->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (d->listen_fd < 0)
		return -errno;
	old = umask(0177);	/* root-only: 0600 */
	if (bind(d->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    listen(d->listen_fd, 16)) {
		umask(old);
		snprintf(err, errlen, "cannot listen on %s: %s", path, strerror(errno));
		return -errno;
	}
	umask(old);
	return 0;
}
