/* SPDX-License-Identifier: MIT */
/*
 * ev.h - the single-threaded poll() event loop.
 *
 * fd watches, one-shot monotonic timers embedded in their owners, prepare
 * hooks run before each poll(), and signals delivered through a signalfd.
 * Nothing here allocates per event.  Callbacks may add and remove watches
 * and timers, including their own.
 */
#ifndef EV_H
#define EV_H

#include <stdbool.h>
#include <stdint.h>

struct ev_loop;

typedef void ev_fd_cb(int fd, short revents, void *arg);
typedef void ev_timer_cb(void *arg);
typedef void ev_prepare_cb(void *arg);
typedef void ev_signal_cb(int signo, void *arg);

/* Embed in the owner; zero-initialise; never copy while armed. */
struct ev_timer {
	uint64_t	 deadline_ms;	/* CLOCK_MONOTONIC */
	ev_timer_cb	*cb;
	void		*arg;
	bool		 armed;
};

/*
 * Creates the loop.  Blocks SIGTERM, SIGINT and SIGHUP and routes them to
 * a signalfd, and ignores SIGPIPE.  Fatal on failure.
 */
struct ev_loop	*ev_new(void);
void		 ev_free(struct ev_loop *);	/* NULL ok */

/* Called for each signal received (TERM, INT, HUP). */
void	ev_signal_set(struct ev_loop *, ev_signal_cb *, void *arg);

/* 0 or -1 (too many fds, fd already watched). events: POLLIN/POLLOUT. */
int	ev_fd_add(struct ev_loop *, int fd, short events, ev_fd_cb *, void *);
int	ev_fd_mod(struct ev_loop *, int fd, short events);
void	ev_fd_del(struct ev_loop *, int fd);	/* unknown fd ok */

void	ev_timer_init(struct ev_timer *, ev_timer_cb *, void *arg);
/* (Re)arm to fire once delay_ms from the loop's current time. */
void	ev_timer_set(struct ev_loop *, struct ev_timer *, uint64_t delay_ms);
void	ev_timer_stop(struct ev_loop *, struct ev_timer *);
bool	ev_timer_pending(const struct ev_timer *);

/* Hooks run in order before every poll(). At most 16. */
void	ev_prepare_add(struct ev_loop *, ev_prepare_cb *, void *arg);
/* Remove the hook added with the same cb and arg (none: nothing). */
void	ev_prepare_del(struct ev_loop *, ev_prepare_cb *, void *arg);

/*
 * Time of the current loop turn (CLOCK_MONOTONIC ms): sampled before the
 * timers run and again when poll() returns, not on every call.
 */
uint64_t ev_now_ms(const struct ev_loop *);
/* Number of completed loop turns; the watchdog checks that it moves. */
uint64_t ev_iterations(const struct ev_loop *);

/* Runs until ev_break(). 0, or -1 if poll() failed fatally. */
int	ev_run(struct ev_loop *);
void	ev_break(struct ev_loop *);

#endif /* EV_H */
