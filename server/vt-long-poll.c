/* vt-long-poll.c: a request held until its job changes or time runs out
 *
 * The message is paused; two things can wake it: the job's ::changed
 * signal and a timeout source. Whichever comes first answers and tears
 * down the other, so nothing polls and no thread waits.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "vt-long-poll.h"

#include "vt-held-message.h"

struct _VtLongPoll
{
  VtHeldMessage         *held;
  VtJob                 *job;
  gulong                 changed_id;
  GSource               *timeout;
  VtLongPollRespondFunc  respond;
  VtLongPollDoneFunc     done;
  gpointer               user_data;
};

static void
vt_long_poll_stop (VtLongPoll *self)
{
  g_clear_signal_handler (&self->changed_id, self->job);
  if (self->timeout != NULL)
    {
      g_source_destroy (self->timeout);
      g_clear_pointer (&self->timeout, g_source_unref);
    }
}

static void
vt_long_poll_answer (VtLongPoll *self)
{
  SoupServerMessage *msg = vt_held_message_get_message (self->held);

  vt_long_poll_stop (self);
  self->respond (msg, self->job, self->user_data);
  soup_server_message_unpause (msg);
  self->done (self, self->user_data);
}

static void
vt_long_poll_on_changed (VtJob    *job,
                         gpointer  user_data)
{
  vt_long_poll_answer (user_data);
}

static gboolean
vt_long_poll_on_timeout (gpointer user_data)
{
  vt_long_poll_answer (user_data);
  return G_SOURCE_REMOVE;
}

static void
vt_long_poll_on_gone (gpointer user_data)
{
  VtLongPoll *self = user_data;

  vt_long_poll_stop (self);
  self->done (self, self->user_data);
}

/**
 * vt_long_poll_new:
 * @msg: a request for @job, not answered yet
 * @wait_seconds: how long at most to hold it
 *
 * Pauses @msg until @job changes or @wait_seconds pass, then calls
 * @respond and resumes it; calls @done in every case.
 */
VtLongPoll *
vt_long_poll_new (SoupServerMessage     *msg,
                  VtJob                 *job,
                  double                 wait_seconds,
                  VtLongPollRespondFunc  respond,
                  VtLongPollDoneFunc     done,
                  gpointer               user_data)
{
  VtLongPoll *self;

  g_return_val_if_fail (SOUP_IS_SERVER_MESSAGE (msg), NULL);
  g_return_val_if_fail (VT_IS_JOB (job), NULL);

  self = g_new0 (VtLongPoll, 1);
  self->job = g_object_ref (job);
  self->respond = respond;
  self->done = done;
  self->user_data = user_data;

  soup_server_message_pause (msg);
  self->held = vt_held_message_new (msg, vt_long_poll_on_gone, self);
  self->changed_id = g_signal_connect (job, "changed",
                                       G_CALLBACK (vt_long_poll_on_changed), self);
  self->timeout = g_timeout_source_new ((guint) (wait_seconds * 1000.0 + 0.5));
  g_source_set_name (self->timeout, "[vt-server] long-poll timeout");
  g_source_set_callback (self->timeout, vt_long_poll_on_timeout, self, NULL);
  g_source_attach (self->timeout, g_main_context_get_thread_default ());

  return self;
}

void
vt_long_poll_free (VtLongPoll *self)
{
  if (self == NULL)
    return;

  vt_long_poll_stop (self);
  vt_held_message_free (self->held);
  g_object_unref (self->job);
  g_free (self);
}
