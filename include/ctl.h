/* SPDX-License-Identifier: MIT */
/*
 * ctl.h - the daemon's control socket (ctl.socket, a UNIX stream socket).
 *
 * Protocol: the client sends one JSON object on one line, e.g.
 * {"cmd":"status"}, and receives one JSON object on one line, then the
 * server closes.  Requests are capped at CTL_MAX_REQUEST bytes.  All
 * sockets are non-blocking and served from the event loop.
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
};

/*
 * Handle one request.  req and peer are borrowed for the call.  Returns
 * a new reference to the reply object (the server adds nothing).  NULL
 * makes the server answer {"ok":false,"error":"internal error"}.
 */
typedef json_t *ctl_handler(const json_t *req, const struct ctl_peer *peer,
		    void *arg);

/*
 * May this peer change the daemon's state (dispatch orders)?  True for
 * uid 0, for the daemon's own effective uid, and for members of
 * admin_group: the peer's gid is the group's, or the peer's user (by
 * uid, in the user database) has it as primary or supplementary group
 * (getgrouplist(3)) or is listed as a member.  admin_group NULL or ""
 * names no group.  An unknown group or user, or a failed lookup, only
 * means "not a member".  Looks up the user and group databases (NSS):
 * call it for the requests that need it, not for every one.
 */
bool		 ctl_peer_is_admin(const struct ctl_peer *,
		    const char *admin_group);

/*
 * Listen on path (an existing stale socket is replaced; the parent
 * directory must exist).  NULL after logging the reason.
 */
struct ctl	*ctl_new(struct ev_loop *, const char *path, ctl_handler *,
		    void *arg);
void		 ctl_free(struct ctl *);	/* NULL ok; unlinks the socket */

/*
 * Client side (fleetgwctl): send req, wait up to timeout_ms for the reply.
 * Returns a new reference, or NULL after printing the reason to stderr.
 */
json_t		*ctl_request(const char *path, const json_t *req, int timeout_ms);

#endif /* CTL_H */
