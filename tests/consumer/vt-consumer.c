/* vt-consumer.c: the smallest program that follows a job with vtclient
 *
 *   vt-consumer [URL]
 *
 * Submits a job to the server at URL (default $VT_SERVER_URL), follows it
 * as a VtJob to the end and prints "Final Status: NICK" and, when it
 * completed, "Result: URL"; exits with 0 when the job completed.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <vtclient.h>

/* The async calls' results, awaited by iterating the default context. */
static void
store_result (GObject      *source G_GNUC_UNUSED,
              GAsyncResult *result,
              gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

static GAsyncResult *
await_result (GAsyncResult **slot)
{
  while (*slot == NULL)
    g_main_context_iteration (NULL, TRUE);
  return *slot;
}

int
main (int   argc,
      char *argv[])
{
  const char *url = argc > 1 ? argv[1] : g_getenv ("VT_SERVER_URL");
  g_autoptr(VtClient) client = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *job_id = NULL;
  g_autoptr(GEnumClass) statuses = g_type_class_ref (VT_TYPE_STATUS);
  g_autoptr(GAsyncResult) submitted = NULL;
  g_autoptr(GAsyncResult) waited = NULL;
  g_autoptr(VtJob) job = NULL;
  VtStatus status;

  if (url == NULL)
    {
      g_printerr ("usage: vt-consumer URL (or VT_SERVER_URL)\n");
      return 2;
    }

  client = vt_client_new (url);
  g_object_set (client, "initial-wait-time", 0.1, NULL);
  vt_client_submit_job_async (client, "https://example.com/video.mp4", "fr",
                              NULL, store_result, &submitted);
  job_id = vt_client_submit_job_finish (client, await_result (&submitted), &error);
  if (job_id == NULL)
    {
      g_printerr ("vt-consumer: %s\n", error->message);
      return 1;
    }

  job = vt_client_follow (client, job_id);
  vt_job_wait_async (job, NULL, store_result, &waited);
  status = vt_job_wait_finish (job, await_result (&waited), &error);
  if (error != NULL)
    {
      g_printerr ("vt-consumer: %s\n", error->message);
      return 1;
    }

  g_print ("Final Status: %s\n", g_enum_get_value (statuses, status)->value_nick);
  if (status != VT_STATUS_COMPLETED)
    return 1;
  g_print ("Result: %s\n", vt_job_get_result_url (job));
  return 0;
}
