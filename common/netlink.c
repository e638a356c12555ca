/*
 * netlink.c - rtnetlink requests, built by hand: rtnetlink(7), netlink(7).
 *
 * A request is one buffer: a struct nlmsghdr, then the message's fixed
 * header (struct ifinfomsg, ifaddrmsg or rtmsg), then attributes, each a
 * struct rtattr { length, type } followed by its value, padded to 4
 * bytes.  A nested attribute is one whose value is more attributes: we
 * open it, append its children, then close it by setting its length.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>

#include "netlink.h"

/* The largest request here, a veth pair, is about 120 bytes. */
#define NL_REQ_SIZE 512

struct nl_req {
	struct nlmsghdr nh;
	char buf[NL_REQ_SIZE];
	int full; /* an attribute did not fit: refuse to send */
};

int nl_open(void)
{
	return socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
}

/*
 * Start a request of this type and return its fixed header (hdrlen bytes,
 * zeroed) for the caller to fill in.  Every request asks for an ACK.
 */
static void *req_start(struct nl_req *req, int type, int flags, size_t hdrlen)
{
	memset(req, 0, sizeof(*req));
	req->nh.nlmsg_len = NLMSG_LENGTH(hdrlen);
	req->nh.nlmsg_type = type;
	req->nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	return NLMSG_DATA(&req->nh);
}

/* Append attribute type with len bytes of data; NULL if it does not fit. */
static struct rtattr *attr_put(struct nl_req *req, unsigned short type, const void *data,
			       size_t len)
{
	size_t off = NLMSG_ALIGN(req->nh.nlmsg_len);
	struct rtattr *rta;

	if (req->full || off + RTA_SPACE(len) > offsetof(struct nl_req, full)) {
		req->full = 1;
		return NULL;
	}
	/* From req, not &req->nh: the message runs on past the header. */
	rta = (struct rtattr *)((char *)req + off);
	rta->rta_type = type;
	rta->rta_len = RTA_LENGTH(len);
	if (len)
		memcpy(RTA_DATA(rta), data, len);
	req->nh.nlmsg_len = off + RTA_SPACE(len);
	return rta;
}

/* Strings go with their terminating NUL, as the kernel's policies expect. */
static void attr_put_str(struct nl_req *req, unsigned short type, const char *s)
{
	attr_put(req, type, s, strlen(s) + 1);
}

static void attr_put_u32(struct nl_req *req, unsigned short type, __u32 v)
{
	attr_put(req, type, &v, sizeof(v));
}

/*
 * Open a nested attribute; its value so far is the len bytes of data
 * (VETH_INFO_PEER starts with a struct ifinfomsg).  nest_end() closes it.
 */
static struct rtattr *nest_start(struct nl_req *req, unsigned short type, const void *data,
				 size_t len)
{
	return attr_put(req, type, data, len);
}

/* The nest's length covers everything appended since nest_start(). */
static void nest_end(struct nl_req *req, struct rtattr *nest)
{
	if (nest)
		nest->rta_len = (char *)req + req->nh.nlmsg_len - (char *)nest;
}

/*
 * Read until the kernel's answer to our sequence number: an NLMSG_ERROR
 * whose error is 0 for the ACK, or a negative errno for a refusal.
 */
static int read_ack(int nl, __u32 seq)
{
	char buf[8192] __attribute__((aligned(__alignof__(struct nlmsghdr))));
	struct sockaddr_nl from;
	socklen_t fromlen;
	struct nlmsghdr *nh;
	struct nlmsgerr *err;
	ssize_t n;

	for (;;) {
		fromlen = sizeof(from);
		n = recvfrom(nl, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fromlen);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		/* Other processes may write to our port: trust only the kernel. */
		if (from.nl_pid != 0)
			continue;
		for (nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, n); nh = NLMSG_NEXT(nh, n)) {
			if (nh->nlmsg_seq != seq || nh->nlmsg_type != NLMSG_ERROR)
				continue;
			if (nh->nlmsg_len < NLMSG_LENGTH(sizeof(*err))) {
				errno = EBADMSG;
				return -1;
			}
			err = NLMSG_DATA(nh);
			if (err->error == 0)
				return 0;
			errno = -err->error;
			return -1;
		}
	}
}

/* Send the request to the kernel (nl_pid 0) and wait for its ACK. */
static int nl_talk(int nl, struct nl_req *req)
{
	static __u32 seq;
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	ssize_t n;

	if (req->full) {
		errno = EMSGSIZE;
		return -1;
	}
	req->nh.nlmsg_seq = ++seq;
	do {
		n = sendto(nl, req, req->nh.nlmsg_len, 0, (struct sockaddr *)&kernel,
			   sizeof(kernel));
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	return read_ack(nl, req->nh.nlmsg_seq);
}

/*
 * The kernel's limit on interface names: IFNAMSIZ (16) with the NUL, see
 * dev_valid_name() in net/core/dev.c.  Checked here so a long name is
 * EINVAL before anything is sent.
 */
static int valid_ifname(const char *name)
{
	if (name[0] == '\0' || strnlen(name, IFNAMSIZ) >= IFNAMSIZ) {
		errno = EINVAL;
		return 0;
	}
	return 1;
}

/*
 * The index of ifname in the calling thread's network namespace, or -1.
 * if_nametoindex(3) says ENODEV when there is no such interface.
 */
static int ifindex(const char *ifname)
{
	unsigned int idx;

	if (!valid_ifname(ifname))
		return -1;
	errno = 0;
	idx = if_nametoindex(ifname);
	if (idx == 0) {
		if (errno == 0)
			errno = ENODEV;
		return -1;
	}
	return (int)idx;
}

/* A dotted quad in network byte order, or -1 with EINVAL. */
static int parse_ipv4(const char *text, struct in_addr *a)
{
	if (inet_pton(AF_INET, text, a) != 1) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

int nl_link_up(int nl, const char *ifname)
{
	struct nl_req req;
	struct ifinfomsg *ifi;
	int idx = ifindex(ifname);

	if (idx < 0)
		return -1;
	ifi = req_start(&req, RTM_NEWLINK, 0, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = idx;
	/* Only the flags set in ifi_change change: the others stay as they are. */
	ifi->ifi_flags = IFF_UP;
	ifi->ifi_change = IFF_UP;
	return nl_talk(nl, &req);
}

int nl_veth_create(int nl, const char *name, const char *peer, pid_t peer_netns_pid)
{
	struct nl_req req;
	struct ifinfomsg *ifi, peer_ifi;
	struct rtattr *linkinfo, *data, *peerinfo;

	if (!valid_ifname(name) || !valid_ifname(peer))
		return -1;
	ifi = req_start(&req, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	attr_put_str(&req, IFLA_IFNAME, name);

	/*
	 * rtnetlink parses IFLA_LINKINFO and what is inside it without
	 * requiring NLA_F_NESTED on the nests, so plain types will do.
	 */
	linkinfo = nest_start(&req, IFLA_LINKINFO, NULL, 0);
	attr_put_str(&req, IFLA_INFO_KIND, "veth");
	data = nest_start(&req, IFLA_INFO_DATA, NULL, 0);

	/*
	 * The peer is described like a link of its own: an ifinfomsg, then
	 * its attributes.  IFLA_NET_NS_PID makes the kernel create it
	 * directly in that process's network namespace, which needs
	 * CAP_NET_ADMIN over that namespace too: the container's end is
	 * never visible on the host, and there is no second "move" request
	 * that could fail halfway.
	 */
	memset(&peer_ifi, 0, sizeof(peer_ifi));
	peer_ifi.ifi_family = AF_UNSPEC;
	peerinfo = nest_start(&req, VETH_INFO_PEER, &peer_ifi, sizeof(peer_ifi));
	attr_put_str(&req, IFLA_IFNAME, peer);
	attr_put_u32(&req, IFLA_NET_NS_PID, (__u32)peer_netns_pid);
	nest_end(&req, peerinfo);

	nest_end(&req, data);
	nest_end(&req, linkinfo);
	return nl_talk(nl, &req);
}

int nl_addr_add(int nl, const char *ifname, const char *addr, int prefixlen)
{
	struct nl_req req;
	struct ifaddrmsg *ifa;
	struct in_addr a;
	int idx;

	if (parse_ipv4(addr, &a) < 0)
		return -1;
	if (prefixlen < 0 || prefixlen > 32) {
		errno = EINVAL;
		return -1;
	}
	idx = ifindex(ifname);
	if (idx < 0)
		return -1;
	ifa = req_start(&req, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, sizeof(*ifa));
	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = prefixlen;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = idx;
	/*
	 * IFA_LOCAL is the address of this end; IFA_ADDRESS is the peer's
	 * on a point-to-point link, and is the same as IFA_LOCAL otherwise.
	 * A veth is an Ethernet link, so both are ours.
	 */
	attr_put(&req, IFA_LOCAL, &a, sizeof(a));
	attr_put(&req, IFA_ADDRESS, &a, sizeof(a));
	return nl_talk(nl, &req);
}

int nl_route_add_default(int nl, const char *gateway)
{
	struct nl_req req;
	struct rtmsg *rtm;
	struct in_addr gw;

	if (parse_ipv4(gateway, &gw) < 0)
		return -1;
	rtm = req_start(&req, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, sizeof(*rtm));
	rtm->rtm_family = AF_INET;
	rtm->rtm_dst_len = 0; /* 0.0.0.0/0: no RTA_DST needed */
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = RTPROT_BOOT;
	/*
	 * Scope universe: the gateway is one hop away and the route leads
	 * anywhere.  The kernel checks that the gateway is on a link that
	 * is up (fib_check_nh()), or refuses with ENETUNREACH.
	 */
	rtm->rtm_scope = RT_SCOPE_UNIVERSE;
	rtm->rtm_type = RTN_UNICAST;
	attr_put(&req, RTA_GATEWAY, &gw, sizeof(gw));
	return nl_talk(nl, &req);
}

int nl_link_delete(int nl, const char *ifname)
{
	struct nl_req req;
	struct ifinfomsg *ifi;
	int idx = ifindex(ifname);

	if (idx < 0)
		return -1;
	ifi = req_start(&req, RTM_DELLINK, 0, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = idx;
	return nl_talk(nl, &req);
}
