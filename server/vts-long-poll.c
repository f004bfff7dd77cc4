/* vts-long-poll.c: a request held until its job changes or time runs out
 *
 * The message is paused; two things can wake it: the job's ::changed
 * signal and its deadline, a timer on the server's one heap (not a
 * GSource each: with 10,000 held requests the main loop would look at
 * every one on every iteration). Whichever comes first answers and tears
 * down the other, so nothing polls and no thread waits.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "vts-long-poll.h"

#include "vts-held-message.h"
#include "vts-timer.h"

struct _VtsLongPoll
{
  VtsHeldMessage         *held;
  VtsJob                 *job;
  gulong                 changed_id;
  VtsTimer               deadline;
  VtsLongPollRespondFunc  respond;
  VtsLongPollDoneFunc     done;
  gpointer               user_data;
};

static void
vts_long_poll_stop (VtsLongPoll *self)
{
  g_clear_signal_handler (&self->changed_id, self->job);
  vts_timer_cancel (&self->deadline);
}

static void
vts_long_poll_answer (VtsLongPoll *self)
{
  SoupServerMessage *msg = vts_held_message_get_message (self->held);

  vts_long_poll_stop (self);
  self->respond (msg, self->job, self->user_data);
  soup_server_message_unpause (msg);
  self->done (self, self->user_data);
}

static void
vts_long_poll_on_changed (VtsJob    *job,
                         gpointer  user_data)
{
  vts_long_poll_answer (user_data);
}

static void
vts_long_poll_on_timeout (VtsTimer *timer,
                         gpointer  user_data)
{
  vts_long_poll_answer (user_data);
}

static void
vts_long_poll_on_gone (gpointer user_data)
{
  VtsLongPoll *self = user_data;

  vts_long_poll_stop (self);
  self->done (self, self->user_data);
}

/*
 * vts_long_poll_new:
 * @msg: a request for @job, not answered yet
 * @wait_seconds: how long at most to hold it
 *
 * Pauses @msg until @job changes or @wait_seconds pass, then calls
 * @respond and resumes it; calls @done in every case.
 */
VtsLongPoll *
vts_long_poll_new (SoupServerMessage     *msg,
                  VtsJob                 *job,
                  double                 wait_seconds,
                  VtsLongPollRespondFunc  respond,
                  VtsLongPollDoneFunc     done,
                  gpointer               user_data)
{
  VtsLongPoll *self;

  g_return_val_if_fail (SOUP_IS_SERVER_MESSAGE (msg), NULL);
  g_return_val_if_fail (VTS_IS_JOB (job), NULL);

  self = g_new0 (VtsLongPoll, 1);
  self->job = g_object_ref (job);
  self->respond = respond;
  self->done = done;
  self->user_data = user_data;

  soup_server_message_pause (msg);
  self->held = vts_held_message_new (msg, vts_long_poll_on_gone, self);
  self->changed_id = g_signal_connect (job, "changed",
                                       G_CALLBACK (vts_long_poll_on_changed), self);
  vts_timer_init (&self->deadline, vts_long_poll_on_timeout, self);
  vts_timer_schedule_in (&self->deadline, wait_seconds);

  return self;
}

void
vts_long_poll_free (VtsLongPoll *self)
{
  if (self == NULL)
    return;

  vts_long_poll_stop (self);
  vts_held_message_free (self->held);
  g_object_unref (self->job);
  g_free (self);
}
