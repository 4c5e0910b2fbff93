/* SPDX-License-Identifier: MIT */
/*
 * ctl.h - the daemon's control socket (ctl.socket, a UNIX stream socket).
 *
 * Protocol: the client sends one JSON object on one line, e.g.
 * {"cmd":"status"}, and receives one JSON object on one line, then the
 * server closes.  Requests are capped at CTL_MAX_REQUEST bytes.  All
 * sockets are non-blocking and served from the event loop.
 *
 * Access: the socket file is 0660 and, through ctl_set_group(), belongs
 * to the inspectors' group; the handler decides per command with
 * ctlauth.h, which asks ctl_peer_is_admin() and ctl_peer_in_group().
 */
#ifndef CTL_H
#define CTL_H

#include <sys/types.h>

#include <stdbool.h>

#include <jansson.h>

#include "ev.h"

#define CTL_MAX_REQUEST	4096

struct ctl;

/*
 * Who is on the other end of a connection: the credentials the kernel
 * recorded when the client connected (SO_PEERCRED), read once at
 * accept.  If they cannot be read, pid is 0 and uid and gid are
 * (uid_t)-1 and (gid_t)-1, which no check below accepts.
 */
struct ctl_peer {
	pid_t		 pid;
	uid_t		 uid;
	gid_t		 gid;		/* primary group of the process */
	const gid_t	*groups;	/* its supplementary groups at connect
					   (SO_PEERGROUPS), ngroups of them;
					   NULL and 0 when unknown */
	size_t		 ngroups;
	int		 fd;		/* a descriptor the client passed with
					   its request (SCM_RIGHTS), -1 none;
					   valid during the handler's call
					   only: dup() it to keep it */
};

/*
 * Handle one request.  req and peer are borrowed for the call.  Returns
 * a new reference to the reply object (the server adds nothing).  NULL
 * makes the server answer {"ok":false,"error":"internal error"}.
 */
typedef json_t *ctl_handler(const json_t *req, const struct ctl_peer *peer,
		    void *arg);

/*
 * Is this peer a member of group?  True when the process's gid or one of
 * its supplementary groups (as the kernel recorded them at connect) is
 * the group's, or the peer's user (by uid, in the user database) has it
 * as primary or supplementary group (getgrouplist(3)) or is listed as a
 * member.  group NULL or "" names no group.  An unknown group or user,
 * or a failed lookup, only means "not a member".  Looks up the user and
 * group databases (NSS): call it for the requests that need it, not for
 * every one.
 */
bool		 ctl_peer_in_group(const struct ctl_peer *, const char *group);

/*
 * Is this peer an administrator (may it change the daemon's state)?  True
 * for uid 0 and for the daemon's own effective uid without any lookup,
 * else ctl_peer_in_group(peer, admin_group).
 */
bool		 ctl_peer_is_admin(const struct ctl_peer *,
		    const char *admin_group);

/*
 * Listen on path (an existing stale socket is replaced; the parent
 * directory must exist).  NULL after logging the reason.
 */
struct ctl	*ctl_new(struct ev_loop *, const char *path, ctl_handler *,
		    void *arg);
/*
 * NULL ok; unlinks the socket.  Safe from inside the handler (a reload
 * that moves the socket): the connection being served then gets its
 * reply (one non-blocking send) and the rest is freed when the handler
 * returns.
 */
void		 ctl_free(struct ctl *);

/*
 * Give the socket file to group (chown(path, -1, gid)) so that its
 * members may connect; the mode stays 0660.  group NULL or "" gives it
 * back to the daemon's own effective group.  A group that does not exist
 * is logged at info level and changes nothing; a failed chown (a service
 * user may only choose a group it belongs to) is logged as a warning.
 * Returns 0 when the socket has the group, -1 when not (logged).
 */
int		 ctl_set_group(struct ctl *, const char *group);

/*
 * Client side (fleetgwctl): send req, wait up to timeout_ms for the reply.
 * Returns a new reference, or NULL after printing the reason to stderr.
 */
json_t		*ctl_request(const char *path, const json_t *req, int timeout_ms);
/*
 * The same, passing the descriptor pass_fd along with the request
 * (SCM_RIGHTS; -1: none): the daemon writes an export to the file the
 * client opened, with the client's permissions.
 */
json_t		*ctl_request_fd(const char *path, const json_t *req, int pass_fd,
		    int timeout_ms);

#endif /* CTL_H */
