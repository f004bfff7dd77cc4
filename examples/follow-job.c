/* follow-job.c: submit a translation job to vt-server and follow it to the end
 *
 *   follow-job [URL]
 *
 * URL defaults to $VT_SERVER_URL, then to http://127.0.0.1:5000. Prints each
 * status update as it is observed and the final status; exits with 0 when the
 * job completed, 1 otherwise.
 *
 * Build it against an installed vtclient with
 *   cc follow-job.c $(pkg-config --cflags --libs vtclient-1)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <vtclient.h>

typedef struct
{
  GMainLoop *loop;
  VtStatus   final_status;
  GError    *error;
} FollowJob;

static const char *
status_nick (VtStatus status)
{
  /* The class of a static enum type lives as long as the program. */
  GEnumClass *klass = g_type_class_ref (VT_TYPE_STATUS);

  return g_enum_get_value (klass, status)->value_nick;
}

static void
on_status_changed (VtClient   *client,
                   const char *job_id,
                   VtStatus    status,
                   gpointer    user_data)
{
  g_print ("Status Updated: %s\n", status_nick (status));
}

static void
on_followed (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  FollowJob *follow = user_data;

  follow->final_status = vt_client_get_status_finish (VT_CLIENT (source), result,
                                                      &follow->error);
  g_main_loop_quit (follow->loop);
}

static void
on_submitted (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  VtClient *client = VT_CLIENT (source);
  FollowJob *follow = user_data;
  g_autofree char *job_id = NULL;

  job_id = vt_client_submit_job_finish (client, result, &follow->error);
  if (job_id == NULL)
    {
      g_main_loop_quit (follow->loop);
      return;
    }

  g_print ("Submitted job %s\n", job_id);
  vt_client_get_status_async (client, job_id, NULL, on_followed, follow);
}

int
main (int   argc,
      char *argv[])
{
  const char *url = argc > 1 ? argv[1] : g_getenv ("VT_SERVER_URL");
  g_autoptr(VtClient) client = NULL;
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  FollowJob follow = { loop, VT_STATUS_PENDING, NULL };

  if (url == NULL || *url == '\0')
    url = "http://127.0.0.1:5000";

  client = vt_client_new (url);
  g_signal_connect (client, "status-changed", G_CALLBACK (on_status_changed), NULL);

  vt_client_submit_job_async (client, "https://example.com/video.mp4", "fr",
                              NULL, on_submitted, &follow);
  g_main_loop_run (loop);

  if (follow.error != NULL)
    {
      g_printerr ("follow-job: %s\n", follow.error->message);
      g_clear_error (&follow.error);
      return 1;
    }

  g_print ("Final Status: %s\n", status_nick (follow.final_status));
  return follow.final_status == VT_STATUS_COMPLETED ? 0 : 1;
}
