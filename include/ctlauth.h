/* SPDX-License-Identifier: MIT */
/*
 * ctlauth.h - who may run which control socket command (issue 7, access).
 *
 * Every command of the control socket (ctl.h) has one class, in one
 * table (ctlauth.c):
 *
 *   inspect  read-only: status, fences, fences_at, check, export, pubkey
 *            and the listings.  Allowed to administrators and to members
 *            of ctl.inspect_group (检查人员).
 *   admin    changes the daemon's state: dispatch_add, dispatch_remove,
 *            reload.  Allowed to administrators only: root, the daemon's
 *            own user, members of ctl.admin_group.
 *
 * A command missing from the table is admin: a handler added without an
 * entry is closed to inspectors until someone decides otherwise (default
 * deny).  Membership is ctl_peer_in_group()'s (primary and supplementary
 * groups of the process and of its user, and the group's member list).
 */
#ifndef CTLAUTH_H
#define CTLAUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "ctl.h"

enum ctlauth_class {
	CTLAUTH_INSPECT,
	CTLAUTH_ADMIN
};

/* The class of cmd; NULL and unknown commands are CTLAUTH_ADMIN. */
enum ctlauth_class ctlauth_class(const char *cmd);

/* "inspect", "admin"; static. */
const char	*ctlauth_class_name(enum ctlauth_class);

/*
 * The decision itself, without lookups: may a peer that is (not) an
 * administrator and (not) an inspector run a command of class cls?
 */
bool		 ctlauth_allows(enum ctlauth_class cls, bool admin,
		    bool inspector);

/*
 * May peer run cmd?  admin_group and inspect_group are the configured
 * ctl.admin_group and ctl.inspect_group ("" or NULL: none).  Looks up
 * the group and user databases only when the peer is neither root nor
 * the daemon's user.  When refused, logs a warning naming the peer's uid
 * and pid, the command and the class it needs, writes the client's
 * message ("permission denied: ...") to why (whylen > 0) and returns
 * false.
 */
bool		 ctlauth_permit(const char *cmd, const struct ctl_peer *peer,
		    const char *admin_group, const char *inspect_group,
		    char *why, size_t whylen);

#endif /* CTLAUTH_H */
