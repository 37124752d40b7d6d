// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * sluice-decap agent: the backend's own count of open connections per VIP,
 * served over HTTP for Prometheus (GET /metrics) and for sluiced (GET
 * /v1/sockets, JSON). Counts come from the kernel's socket tables through
 * sock_diag on every request, so they are never stale; no privilege is
 * needed to read them.
 *
 *   sluice-decap agent [--listen ADDR:PORT] [--iface IFACE] --vip VIP...
 *
 * With --iface, /metrics also carries the decap program's counters on
 * IFACE, second-chance pass-ons included. Reading them needs CAP_SYS_ADMIN:
 * the agent finds the program by its id, which the kernel allows no less.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <json-c/json.h>
#include <microhttpd.h>

#include "agent.h"
#include "counters.h"
#include "log.h"
#include "parse.h"
#include "sockdiag.h"

#define AGENT_DEFAULT_LISTEN	"127.0.0.1:9470"
#define AGENT_MAX_VIPS		256
#define AGENT_MAX_CONN		16
#define AGENT_TIMEOUT_S		5

struct agent {
	const char *iface; /* --iface: export its decap counters */
	struct sl_vip_spec vips[AGENT_MAX_VIPS];
	char names[AGENT_MAX_VIPS][SL_VIP_STR_MAX];
	size_t n;
};

static int agent_usage(int rc)
{
	fprintf(rc ? stderr : stdout,
		"usage: sluice-decap agent [--listen ADDR:PORT] [--iface IFACE] --vip VIP [--vip VIP...]\n"
		"  --listen ADDR:PORT  where to serve (default %s)\n"
		"  --vip VIP           a VIP this backend serves, e.g. 198.18.0.100:80/tcp\n"
		"  --iface IFACE       also export the decap and second-chance counters\n"
		"                      of the decap program on IFACE (needs CAP_SYS_ADMIN)\n"
		"serves GET /metrics (Prometheus) and GET /v1/sockets (JSON)\n"
		"exit codes: 0 stopped by a signal, 1 failed, 2 usage\n",
		AGENT_DEFAULT_LISTEN);
	return rc;
}

/* A gauge line per VIP for one field of its count. */
static void emit_state(FILE *f, const struct agent *a,
		       const struct sl_sock_count *c, const char *state,
		       size_t offset)
{
	size_t i;

	for (i = 0; i < a->n; i++)
		fprintf(f, "sluice_agent_sockets{vip=\"%s\",state=\"%s\"} %llu\n",
			a->names[i], state,
			(unsigned long long)*(const __u64 *)((const char *)&c[i] + offset));
}

/* The decap program's counters on --iface, read at each scrape. */
static void render_decap(FILE *f, const struct agent *a)
{
	__u64 c[SLUICE_DR_MAX];
	int rc;
	__u32 r;

	if (!a->iface)
		return;
	rc = sl_decap_counters(a->iface, c);
	fputs("# HELP sluice_decap_packets_total Packets the decap program saw, by "
	      "outcome (passed_on: second chance, sent on to the second hop).\n"
	      "# TYPE sluice_decap_packets_total counter\n",
	      f);
	for (r = 0; r < SLUICE_DR_MAX && !rc; r++)
		fprintf(f,
			"sluice_decap_packets_total{iface=\"%s\",reason=\"%s\"} %llu\n",
			a->iface, sl_dr_names[r], (unsigned long long)c[r]);
	fputs("# HELP sluice_decap_read_error 1 when the decap counters could not "
	      "be read (no program on the interface, or no CAP_SYS_ADMIN).\n"
	      "# TYPE sluice_decap_read_error gauge\n",
	      f);
	fprintf(f, "sluice_decap_read_error{iface=\"%s\"} %d\n", a->iface,
		rc ? 1 : 0);
}

static void render_metrics(FILE *f, const struct agent *a,
			   const struct sl_sock_count *c, int rc)
{
	size_t i;

	fputs("# HELP sluice_agent_live_sockets Connections to the VIP that stopping "
	      "this backend would break (sock_diag).\n"
	      "# TYPE sluice_agent_live_sockets gauge\n", f);
	for (i = 0; i < a->n && !rc; i++)
		fprintf(f, "sluice_agent_live_sockets{vip=\"%s\"} %llu\n", a->names[i],
			(unsigned long long)c[i].live);
	fputs("# HELP sluice_agent_sockets Sockets of the VIP by state.\n"
	      "# TYPE sluice_agent_sockets gauge\n", f);
	if (!rc) {
		emit_state(f, a, c, "established", offsetof(struct sl_sock_count, established));
		emit_state(f, a, c, "half_closed", offsetof(struct sl_sock_count, half_closed));
		emit_state(f, a, c, "handshake", offsetof(struct sl_sock_count, handshakes));
		emit_state(f, a, c, "time_wait", offsetof(struct sl_sock_count, time_wait));
		emit_state(f, a, c, "udp_connected", offsetof(struct sl_sock_count, udp));
		emit_state(f, a, c, "orphaned", offsetof(struct sl_sock_count, orphaned));
	}
	fputs("# HELP sluice_agent_count_error 1 when the kernel's socket tables "
	      "could not be read.\n# TYPE sluice_agent_count_error gauge\n", f);
	fprintf(f, "sluice_agent_count_error %d\n", rc ? 1 : 0);
	render_decap(f, a);
}

static void render_json(FILE *f, const struct agent *a,
			const struct sl_sock_count *c, int rc, const char *err)
{
	struct json_object *o = json_object_new_object(), *vips;
	size_t i;

	json_object_object_add(o, "ok", json_object_new_boolean(!rc));
	if (rc) {
		json_object_object_add(o, "error", json_object_new_string(err));
	} else {
		vips = json_object_new_array();
		for (i = 0; i < a->n; i++) {
			struct json_object *v = json_object_new_object();

			json_object_object_add(v, "vip", json_object_new_string(a->names[i]));
			json_object_object_add(v, "live", json_object_new_uint64(c[i].live));
			json_object_object_add(v, "established",
					       json_object_new_uint64(c[i].established));
			json_object_object_add(v, "half_closed",
					       json_object_new_uint64(c[i].half_closed));
			json_object_object_add(v, "handshakes",
					       json_object_new_uint64(c[i].handshakes));
			json_object_object_add(v, "time_wait",
					       json_object_new_uint64(c[i].time_wait));
			json_object_object_add(v, "udp_connected",
					       json_object_new_uint64(c[i].udp));
			json_object_object_add(v, "orphaned",
					       json_object_new_uint64(c[i].orphaned));
			json_object_array_add(vips, v);
		}
		json_object_object_add(o, "vips", vips);
	}
	fprintf(f, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned int status,
			     const char *type, char *body, size_t len)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", type);
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn,
			      const char *url, const char *method,
			      const char *version, const char *upload,
			      size_t *upload_len, void **state)
{
	struct sl_sock_count c[AGENT_MAX_VIPS];
	const struct agent *a = cls;
	bool json = !strcmp(url, "/v1/sockets");
	char err[256] = "", *body = NULL;
	size_t len = 0;
	FILE *f;
	int rc;

	(void)version;
	(void)upload;
	(void)upload_len;
	(void)state;
	if (strcmp(method, "GET") || (!json && strcmp(url, "/metrics"))) {
		body = strdup("not found: GET /metrics or GET /v1/sockets\n");
		return body ? reply(conn, MHD_HTTP_NOT_FOUND, "text/plain", body,
				    strlen(body)) : MHD_NO;
	}
	rc = sl_sockdiag_count(a->vips, a->n, c, err, sizeof(err));
	f = open_memstream(&body, &len);
	if (!f)
		return MHD_NO;
	if (json)
		render_json(f, a, c, rc, err);
	else
		render_metrics(f, a, c, rc);
	fclose(f);
	return reply(conn, rc && json ? MHD_HTTP_SERVICE_UNAVAILABLE : MHD_HTTP_OK,
		     json ? "application/json" : "text/plain; version=0.0.4",
		     body, len);
}

/* A listening socket on @where ("ADDR:PORT"), or -1 with a message. */
static int listen_on(const char *where)
{
	struct sockaddr_storage ss = {};
	struct sluice_addr addr;
	socklen_t sl;
	char err[256];
	__be16 port;
	__u8 family;
	int fd, one = 1;

	if (sl_parse_addr_port(where, &addr, &family, &port, err, sizeof(err))) {
		sl_err("--listen: %s", err);
		return -2;
	}
	if (family == SLUICE_AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;

		in->sin_family = AF_INET;
		in->sin_port = port;
		in->sin_addr.s_addr = addr.addr[0];
		sl = sizeof(*in);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

		in6->sin6_family = AF_INET6;
		in6->sin6_port = port;
		memcpy(&in6->sin6_addr, &addr, sizeof(addr));
		sl = sizeof(*in6);
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, (struct sockaddr *)&ss, sl) || listen(fd, 16)) {
		sl_err("cannot listen on %s: %s", where, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static int add_vip(struct agent *a, const char *s)
{
	char err[256];

	if (a->n == AGENT_MAX_VIPS) {
		sl_err("at most %d --vip", AGENT_MAX_VIPS);
		return -1;
	}
	if (sl_parse_vip(s, &a->vips[a->n], err, sizeof(err))) {
		sl_err("--vip: %s", err);
		return -1;
	}
	sl_format_vip(&a->vips[a->n], a->names[a->n], sizeof(a->names[0]));
	a->n++;
	return 0;
}

/*
 * Say at start, once, why --iface's counters cannot be read: the scrape
 * only shows an error gauge. Not fatal: the socket counts are what a
 * drain waits for, and the program may be attached later.
 */
static void check_iface(const struct agent *a)
{
	__u64 c[SLUICE_DR_MAX];
	int rc;

	if (!a->iface)
		return;
	rc = sl_decap_counters(a->iface, c);
	if (rc)
		sl_warn("--iface %s: cannot read the decap counters (%s): "
			"attach sluice-decap to %s, and run the agent with "
			"CAP_SYS_ADMIN, which reading them needs; until then /metrics "
			"reports sluice_decap_read_error 1 and the socket counts as usual",
			a->iface, strerror(-rc), a->iface);
}

/* Serve until SIGTERM or SIGINT. */
static int serve(struct agent *a, int fd, const char *where)
{
	struct MHD_Daemon *mhd;
	sigset_t mask;
	int sig;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	pthread_sigmask(SIG_BLOCK, &mask, NULL);	/* before MHD's thread starts */
	mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL,
			       handle, a, MHD_OPTION_LISTEN_SOCKET, fd,
			       MHD_OPTION_CONNECTION_LIMIT, (unsigned int)AGENT_MAX_CONN,
			       MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)AGENT_TIMEOUT_S,
			       MHD_OPTION_END);
	if (!mhd) {
		sl_err("cannot serve on %s: libmicrohttpd did not start",
		       where);
		close(fd);
		return 1;
	}
	sl_info("agent on http://%s (/metrics, /v1/sockets), %zu VIPs", where,
		a->n);
	sigwait(&mask, &sig);
	MHD_stop_daemon(mhd);
	close(fd);
	return 0;
}

int sl_agent_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "vip", required_argument, NULL, 'p' },
		{ "iface", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	static struct agent a;
	const char *where = AGENT_DEFAULT_LISTEN;
	int opt, fd;

	/* A service: under systemd its lines carry their priority. */
	sl_log_init("sluice-decap", false);
	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'l':
			where = optarg;
			break;
		case 'p':
			if (add_vip(&a, optarg))
				return 2;
			break;
		case 'i':
			a.iface = optarg;
			break;
		case 'h':
			return agent_usage(0);
		default:
			return agent_usage(2);
		}
	}
	if (optind != argc || !a.n) {
		if (!a.n)
			sl_err("agent: give at least one --vip");
		return agent_usage(2);
	}
	fd = listen_on(where);
	if (fd < 0)
		return fd == -2 ? 2 : 1;
	check_iface(&a);
	return serve(&a, fd, where);
}
