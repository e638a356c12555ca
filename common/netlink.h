/*
 * netlink.h - the few rtnetlink requests that give a container a network:
 * a veth pair with one end born inside the container, an IPv4 address on
 * each end, links up, a default route, and deleting the pair at the end.
 *
 * This is what ip-link(8), ip-address(8) and ip-route(8) send, written out
 * so a learner sees the messages themselves: rtnetlink(7), netlink(7).
 * IPv4 only.  Every request asks for an acknowledgement (NLM_F_ACK) and
 * waits for it, so a call returns only once the kernel has done the work
 * or refused it.
 *
 * Pure helpers: they never print.  They return 0 on success (nl_open()
 * a descriptor) and -1 with errno set to the kernel's own error on
 * failure, so the caller can report EEXIST or ENETUNREACH by name.
 */
#ifndef BOXLAB_NETLINK_H
#define BOXLAB_NETLINK_H

#include <sys/types.h>

/**
 * nl_open() - open an rtnetlink socket
 *
 * A NETLINK_ROUTE socket (close-on-exec) that talks to the network
 * namespace the calling thread is in *now*: a socket stays tied to the
 * namespace it was made in, so a process that unshare(CLONE_NEWNET)s
 * afterwards must open a new one.  Close it with close(2).
 *
 * Return: the socket, or -1 with errno set.
 */
int nl_open(void);

/**
 * nl_link_up() - bring an interface up, as "ip link set IFNAME up"
 * @nl:     a socket from nl_open()
 * @ifname: the interface, in the socket's network namespace
 *
 * Sends RTM_NEWLINK for the interface's index with IFF_UP in both
 * ifi_flags and ifi_change (only the bits in ifi_change are changed).
 *
 * Return: 0, or -1 with errno set: ENODEV when there is no such interface.
 */
int nl_link_up(int nl, const char *ifname);

/**
 * nl_veth_create() - make a veth pair whose peer is born in another netns
 * @nl:             a socket from nl_open()
 * @name:           the end that stays here, e.g. "bx1234"
 * @peer:           the other end's name, e.g. "eth0"
 * @peer_netns_pid: a process in the network namespace the peer goes to
 *
 * Sends RTM_NEWLINK with NLM_F_CREATE|NLM_F_EXCL, IFLA_IFNAME @name and
 * IFLA_LINKINFO { IFLA_INFO_KIND "veth", IFLA_INFO_DATA { VETH_INFO_PEER
 * { struct ifinfomsg, IFLA_IFNAME @peer, IFLA_NET_NS_PID @peer_netns_pid }}}.
 * Both ends are down when this returns.
 *
 * Return: 0, or -1 with errno set: EEXIST when either name is taken in its
 * namespace, EINVAL for a name of IFNAMSIZ characters or more, ESRCH when
 * @peer_netns_pid is no process.
 */
int nl_veth_create(int nl, const char *name, const char *peer, pid_t peer_netns_pid);

/**
 * nl_addr_add() - add an IPv4 address, as "ip addr add ADDR/LEN dev IFNAME"
 * @nl:        a socket from nl_open()
 * @ifname:    the interface
 * @addr:      dotted quad, e.g. "10.200.0.1"
 * @prefixlen: 0 to 32
 *
 * Sends RTM_NEWADDR (NLM_F_CREATE|NLM_F_EXCL) with IFA_LOCAL and
 * IFA_ADDRESS both @addr and no IFA_BROADCAST: on a /30 between two veth
 * ends nothing is ever broadcast.  The kernel adds the prefix route
 * itself once the link is up.
 *
 * Return: 0, or -1 with errno set: EINVAL for a bad address or prefix
 * length, ENODEV for no such interface, EEXIST if it has the address.
 */
int nl_addr_add(int nl, const char *ifname, const char *addr, int prefixlen);

/**
 * nl_route_add_default() - add "default via GATEWAY" to the main table
 * @nl:      a socket from nl_open()
 * @gateway: dotted quad, e.g. "10.200.0.1"
 *
 * Sends RTM_NEWROUTE (NLM_F_CREATE|NLM_F_EXCL) for 0.0.0.0/0 in
 * RT_TABLE_MAIN, RTPROT_BOOT, RT_SCOPE_UNIVERSE, RTN_UNICAST, with
 * RTA_GATEWAY and no output interface: the kernel picks the interface
 * whose connected route holds the gateway.
 *
 * Return: 0, or -1 with errno set: ENETUNREACH when no interface that is
 * up has an address on the gateway's subnet, EEXIST if a default route
 * is there already.
 */
int nl_route_add_default(int nl, const char *gateway);

/**
 * nl_link_delete() - delete an interface, as "ip link del IFNAME"
 * @nl:     a socket from nl_open()
 * @ifname: the interface
 *
 * Sends RTM_DELLINK for the interface's index.  Deleting one end of a
 * veth pair deletes the other end too, in whatever namespace it is.
 *
 * Return: 0, or -1 with errno set: ENODEV when the interface is already
 * gone (its peer's namespace died with the container, say), which an undo
 * function may treat as success.
 */
int nl_link_delete(int nl, const char *ifname);

#endif
