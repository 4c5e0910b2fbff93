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

#include <jansson.h>

#include "ev.h"

#define CTL_MAX_REQUEST	4096

struct ctl;

/*
 * Handle one request.  req is borrowed.  Returns a new reference to the
 * reply object (the server adds nothing).  Never NULL.
 */
typedef json_t *ctl_handler(const json_t *req, void *arg);

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
