// getfamily: a raw C loop of CTRL_CMD_GETFAMILY("nlctrl") round trips on a
// blocking NETLINK_GENERIC socket, one reused buffer, no library: the
// baseline genlkit's BenchmarkGetFamily compares against.
//
//   gcc -O2 -o getfamily getfamily.c && ./getfamily 1000000
//
// It prints "<iterations> <ns per round trip> <CPU ns per round trip>", and
// decodes CTRL_ATTR_FAMILY_ID from every reply as the Go benchmarks do.
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
	long n = argc > 1 ? atol(argv[1]) : 1000000;
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (fd < 0) { perror("socket"); return 1; }
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) { perror("bind"); return 1; }

	struct {
		struct nlmsghdr n;
		struct genlmsghdr g;
		struct nlattr a;
		char name[8];
	} req;
	memset(&req, 0, sizeof(req));
	req.n.nlmsg_len = sizeof(req);
	req.n.nlmsg_type = GENL_ID_CTRL;
	req.n.nlmsg_flags = NLM_F_REQUEST;
	req.g.cmd = CTRL_CMD_GETFAMILY;
	req.g.version = 1;
	req.a.nla_len = NLA_HDRLEN + sizeof("nlctrl");
	req.a.nla_type = CTRL_ATTR_FAMILY_NAME;
	strcpy(req.name, "nlctrl");

	static char buf[32768];
	struct timespec t0, t1, c0, c1;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (long i = 0; i < n; i++) {
		req.n.nlmsg_seq = i + 1;
		if (send(fd, &req, sizeof(req), 0) < 0) { perror("send"); return 1; }
		ssize_t r = recv(fd, buf, sizeof(buf), 0);
		if (r < (ssize_t)sizeof(struct nlmsghdr)) { perror("recv"); return 1; }
		struct nlmsghdr *h = (struct nlmsghdr *)buf;
		if (h->nlmsg_type != GENL_ID_CTRL || h->nlmsg_seq != (unsigned)(i + 1)) {
			fprintf(stderr, "bad reply type %d seq %u\n", h->nlmsg_type, h->nlmsg_seq);
			return 1;
		}
		/* Decode CTRL_ATTR_FAMILY_ID, as the Go benchmarks do. */
		unsigned id = 0;
		size_t off = NLMSG_HDRLEN + GENL_HDRLEN, end = r < (ssize_t)h->nlmsg_len ? (size_t)r : h->nlmsg_len;
		while (off + NLA_HDRLEN <= end) {
			struct nlattr *a = (struct nlattr *)(buf + off);
			if (a->nla_len < NLA_HDRLEN || off + a->nla_len > end)
				break;
			if ((a->nla_type & NLA_TYPE_MASK) == CTRL_ATTR_FAMILY_ID && a->nla_len >= NLA_HDRLEN + 2)
				id = *(unsigned short *)(buf + off + NLA_HDRLEN);
			off += NLA_ALIGN(a->nla_len);
		}
		if (id != GENL_ID_CTRL) {
			fprintf(stderr, "bad family id %u\n", id);
			return 1;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
	double ns = (t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec);
	double cpu = (c1.tv_sec - c0.tv_sec) * 1e9 + (c1.tv_nsec - c0.tv_nsec);
	printf("%ld %.1f %.1f\n", n, ns / n, cpu / n);
	return 0;
}
