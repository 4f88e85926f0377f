// ynlbench runs the typed workloads of the Go benchmarks in this package
// through the kernel's YNL C library (tools/net/ynl), so that both sit in the
// same benchmark run. build.sh builds it; the benchmarks run it.
//
//	ynlbench [-n NETNS_PATH] dump WHAT ITERATIONS
//	    WHAT: netdev-dev | linkinfo | features-compact | features-verbose |
//	          linkmodes-compact; one operation is one whole dump
//	ynlbench [-n NETNS_PATH] do-linkinfo ITERATIONS
//	    one operation is one linkinfo-get do, cycling over every device
//	ynlbench netns ITERATIONS NETNS_PATH...
//	    one operation is opening a socket and resolving netdev in each
//	    namespace, then closing them all
//	ynlbench [-n NETNS_PATH] notify DELS
//	    subscribes to netdev's mgmt group, prints "ready", and counts
//	    notifications until DELS dev-del notifications have arrived; one
//	    operation is one notification
//	ynlbench [-n NETNS_PATH] serve WHAT
//	    WHAT: a dump's WHAT or do-linkinfo; opens the socket once, runs the
//	    workload once untimed, then for each line N read from standard
//	    input runs N operations and prints their report line, until end of
//	    input: the Go benchmarks alternate short rounds with it without
//	    starting a process per round. WHAT notify: for each line N, a new
//	    socket subscribes to netdev's mgmt group and reads N notifications
//	    (of any kind), timed from the subscription on, then closes
//
// It prints: OPERATIONS NS/OP CPU-NS/OP ALLOCS/OP B/OP ITEMS USER-NS/OP, where
// CPU-NS/OP is the process's user + system time (getrusage) and USER-NS/OP its
// user time alone, ALLOCS/OP counts malloc, calloc and realloc calls and B/OP
// the bytes they asked for (linked with --wrap). ITEMS is the number of
// objects of one dump, of devices, or of notifications received.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <ynl.h>
#include "ethtool-user.h"
#include "netdev-user.h"

static unsigned long long allocs, bytes;

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t m);
void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n) { allocs++; bytes += n; return __real_malloc(n); }
void *__wrap_calloc(size_t n, size_t m) { allocs++; bytes += n * m; return __real_calloc(n, m); }
void *__wrap_realloc(void *p, size_t n) { allocs++; bytes += n; return __real_realloc(p, n); }

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

// cpu_ns returns the process's user + system time, and its user time in
// *user.
static double cpu_ns(double *user)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	*user = ru.ru_utime.tv_sec * 1e9 + ru.ru_utime.tv_usec * 1e3;
	return *user + ru.ru_stime.tv_sec * 1e9 + ru.ru_stime.tv_usec * 1e3;
}

static void die(const char *what, struct ynl_sock *ys)
{
	fprintf(stderr, "ynlbench: %s: %s\n", what, ys ? ys->err.msg : strerror(errno));
	exit(1);
}

static struct ynl_sock *sock(const struct ynl_family *f)
{
	struct ynl_error yerr;
	struct ynl_sock *ys = ynl_sock_create(f, &yerr);

	if (!ys) {
		fprintf(stderr, "ynlbench: ynl_sock_create %s: %s\n", f->name, yerr.msg);
		exit(1);
	}
	return ys;
}

static void enter(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || setns(fd, CLONE_NEWNET) < 0)
		die(path, NULL);
	close(fd);
}

static double t0, c0, u0;
static unsigned long long a0, b0;

static void start(void)
{
	a0 = allocs;
	b0 = bytes;
	c0 = cpu_ns(&u0);
	t0 = now_ns();
}

static void report(long ops, long items)
{
	double u, t = now_ns() - t0, c = cpu_ns(&u) - c0;

	printf("%ld %.1f %.1f %.2f %.1f %ld %.1f\n", ops, t / ops, c / ops,
	       (double)(allocs - a0) / ops, (double)(bytes - b0) / ops, items,
	       (u - u0) / ops);
}

// dump runs one dump of what and returns the number of objects.
static long dump(struct ynl_sock *ys, const char *what)
{
	long n = 0;

	if (!strcmp(what, "netdev-dev")) {
		struct netdev_dev_get_list *l = netdev_dev_get_dump(ys);

		if (!l)
			die("dev-get dump", ys);
		ynl_dump_foreach(l, d) n += d->_present.ifindex;
		netdev_dev_get_list_free(l);
	} else if (!strcmp(what, "linkinfo")) {
		struct ethtool_linkinfo_get_req_dump *req = ethtool_linkinfo_get_req_dump_alloc();
		struct ethtool_linkinfo_get_list *l;

		l = ethtool_linkinfo_get_dump(ys, req);
		ethtool_linkinfo_get_req_dump_free(req);
		if (!l)
			die("linkinfo-get dump", ys);
		ynl_dump_foreach(l, d) n += d->header._present.dev_index;
		ethtool_linkinfo_get_list_free(l);
	} else if (!strncmp(what, "features-", 9)) {
		struct ethtool_features_get_req_dump *req = ethtool_features_get_req_dump_alloc();
		struct ethtool_features_get_list *l;

		if (!strcmp(what, "features-compact"))
			ethtool_features_get_req_dump_set_header_flags(req, ETHTOOL_FLAG_COMPACT_BITSETS);
		l = ethtool_features_get_dump(ys, req);
		ethtool_features_get_req_dump_free(req);
		if (!l)
			die("features-get dump", ys);
		ynl_dump_foreach(l, d) n += d->header._present.dev_index && d->_present.active;
		ethtool_features_get_list_free(l);
	} else if (!strcmp(what, "linkmodes-compact")) {
		struct ethtool_linkmodes_get_req_dump *req = ethtool_linkmodes_get_req_dump_alloc();
		struct ethtool_linkmodes_get_list *l;

		ethtool_linkmodes_get_req_dump_set_header_flags(req, ETHTOOL_FLAG_COMPACT_BITSETS);
		l = ethtool_linkmodes_get_dump(ys, req);
		ethtool_linkmodes_get_req_dump_free(req);
		if (!l)
			die("linkmodes-get dump", ys);
		ynl_dump_foreach(l, d) n += d->header._present.dev_index;
		ethtool_linkmodes_get_list_free(l);
	} else {
		fprintf(stderr, "ynlbench: unknown dump %s\n", what);
		exit(2);
	}
	return n;
}

// dumps runs iters dumps of what, each of which must give n objects.
static void dumps(struct ynl_sock *ys, const char *what, long n, long iters)
{
	for (long i = 0; i < iters; i++)
		if (dump(ys, what) != n) {
			fprintf(stderr, "ynlbench: dump size changed\n");
			exit(1);
		}
}

static int cmd_dump(const char *what, long iters)
{
	struct ynl_sock *ys = sock(strcmp(what, "netdev-dev") ? &ynl_ethtool_family : &ynl_netdev_family);
	long n = dump(ys, what); // warm up

	start();
	dumps(ys, what, n, iters);
	report(iters, n);
	ynl_sock_destroy(ys);
	return 0;
}

// devices returns the ifindexes of every device ethtool dumps, in *n.
static __u32 *devices(struct ynl_sock *ys, long *n)
{
	struct ethtool_linkinfo_get_req_dump *dreq = ethtool_linkinfo_get_req_dump_alloc();
	struct ethtool_linkinfo_get_list *l = ethtool_linkinfo_get_dump(ys, dreq);
	long k = 0;
	__u32 *idx;

	ethtool_linkinfo_get_req_dump_free(dreq);
	if (!l)
		die("linkinfo-get dump", ys);
	*n = 0;
	ynl_dump_foreach(l, d) (*n)++;
	idx = calloc(*n, sizeof(*idx));
	ynl_dump_foreach(l, d) idx[k++] = d->header.dev_index;
	ethtool_linkinfo_get_list_free(l);
	return idx;
}

// linkinfo_gets makes iters linkinfo-get requests, cycling over the n
// devices of idx from *next on.
static void linkinfo_gets(struct ynl_sock *ys, const __u32 *idx, long n, long *next, long iters)
{
	for (long i = 0; i < iters; i++, *next = (*next + 1) % n) {
		struct ethtool_linkinfo_get_req *req = ethtool_linkinfo_get_req_alloc();
		struct ethtool_linkinfo_get_rsp *rsp;

		ethtool_linkinfo_get_req_set_header_dev_index(req, idx[*next]);
		rsp = ethtool_linkinfo_get(ys, req);
		ethtool_linkinfo_get_req_free(req);
		if (!rsp || rsp->header.dev_index != idx[*next])
			die("linkinfo-get", ys);
		ethtool_linkinfo_get_rsp_free(rsp);
	}
}

static int cmd_do(long iters)
{
	struct ynl_sock *ys = sock(&ynl_ethtool_family);
	long n, next = 0;
	__u32 *idx = devices(ys, &n);

	start();
	linkinfo_gets(ys, idx, n, &next, iters);
	report(iters, n);
	ynl_sock_destroy(ys);
	return 0;
}

static int serve_notify(void);

static int cmd_serve(const char *what)
{
	int do_linkinfo = !strcmp(what, "do-linkinfo");
	struct ynl_sock *ys;
	long n, next = 0, iters;
	__u32 *idx = NULL;

	if (!strcmp(what, "notify"))
		return serve_notify();
	ys = sock(do_linkinfo || strcmp(what, "netdev-dev") ? &ynl_ethtool_family : &ynl_netdev_family);
	if (do_linkinfo) {
		idx = devices(ys, &n);
		linkinfo_gets(ys, idx, n, &next, n); // warm up
	} else {
		n = dump(ys, what); // warm up
	}
	while (scanf("%ld", &iters) == 1) {
		start();
		if (do_linkinfo)
			linkinfo_gets(ys, idx, n, &next, iters);
		else
			dumps(ys, what, n, iters);
		report(iters, n);
		fflush(stdout);
	}
	ynl_sock_destroy(ys);
	return 0;
}

static int cmd_netns(long iters, int n, char **paths)
{
	struct ynl_sock **socks = calloc(n, sizeof(*socks));
	int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);

	if (self < 0)
		die("/proc/self/ns/net", NULL);
	start();
	for (long i = 0; i < iters; i++) {
		for (int j = 0; j < n; j++) {
			enter(paths[j]);
			socks[j] = sock(&ynl_netdev_family);
		}
		if (setns(self, CLONE_NEWNET) < 0)
			die("setns back", NULL);
		for (int j = 0; j < n; j++)
			ynl_sock_destroy(socks[j]);
	}
	report(iters, n);
	return 0;
}

// notifications reads netdev notifications from ys, subscribed, until want
// of them have arrived (with dels, want dev-del notifications), and returns
// how many it read. It gives up after a minute without one.
static long notifications(struct ynl_sock *ys, long want, int dels)
{
	struct pollfd pfd = { .fd = ynl_socket_get_fd(ys), .events = POLLIN };
	long n = 0, d = 0;

	while ((dels ? d : n) < want) {
		struct ynl_ntf_base_type *ntf;
		int r = poll(&pfd, 1, 60000);

		if (r == 0) {
			fprintf(stderr, "ynlbench: no notification for a minute, %ld read\n", n);
			exit(1);
		}
		if (r < 0 && errno != EINTR)
			die("poll", NULL);
		if (ynl_ntf_check(ys) < 0)
			die("notifications", ys);
		while ((ntf = ynl_ntf_dequeue(ys))) {
			n++;
			d += ntf->cmd == NETDEV_CMD_DEV_DEL_NTF;
			ynl_ntf_free(ntf);
		}
	}
	return n;
}

// subscribed returns a netdev socket subscribed to the mgmt group.
static struct ynl_sock *subscribed(void)
{
	struct ynl_sock *ys = sock(&ynl_netdev_family);

	if (ynl_subscribe(ys, "mgmt") < 0)
		die("subscribe mgmt", ys);
	return ys;
}

static int cmd_notify(long dels)
{
	struct ynl_sock *ys = subscribed();
	long n;

	printf("ready\n");
	fflush(stdout);
	start();
	n = notifications(ys, dels, 1);
	report(n, n);
	ynl_sock_destroy(ys);
	return 0;
}

// serve_notify is serve for notify: for each line N read, a socket of its
// own subscribes to netdev's mgmt group, reads N notifications, reports
// them (from the subscription on) and closes, so that it reads nothing
// between rounds.
static int serve_notify(void)
{
	long want;

	while (scanf("%ld", &want) == 1) {
		struct ynl_sock *ys = subscribed();
		long n;

		start();
		n = notifications(ys, want, 0);
		report(n, n);
		fflush(stdout);
		ynl_sock_destroy(ys);
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 2 && !strcmp(argv[1], "-n")) {
		enter(argv[2]);
		argv += 2;
		argc -= 2;
	}
	if (argc == 4 && !strcmp(argv[1], "dump"))
		return cmd_dump(argv[2], atol(argv[3]));
	if (argc == 3 && !strcmp(argv[1], "do-linkinfo"))
		return cmd_do(atol(argv[2]));
	if (argc > 3 && !strcmp(argv[1], "netns"))
		return cmd_netns(atol(argv[2]), argc - 3, argv + 3);
	if (argc == 3 && !strcmp(argv[1], "notify"))
		return cmd_notify(atol(argv[2]));
	if (argc == 3 && !strcmp(argv[1], "serve"))
		return cmd_serve(argv[2]);
	fprintf(stderr, "usage: ynlbench [-n NETNS_PATH] dump WHAT N | do-linkinfo N | netns N PATH... | notify DELS | serve WHAT\n");
	return 2;
}
