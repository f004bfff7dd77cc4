/* vt-server-info.c: what a client knows of one server
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "vt-server-info-private.h"

struct _VtServerInfo
{
  gatomicrefcount   ref_count;
  char             *base_url;

  GMutex            lock;
  VtCapabilities    capabilities;
  gboolean          capabilities_known;
  VtDurationModel  *model;

  /* The plan made of the model: remade when the model changed, or when a
   * watch's settings differ from the last. */
  VtScheduleConfig  plan_config;
  VtSchedulePlan    plan;
  guint64           plan_version;   /* the model's version it was made at */
  gboolean          planned;        /* plan_* are set */
  gboolean          plan_usable;
};

VtServerInfo *
vt_server_info_new (const char *base_url)
{
  VtServerInfo *info = g_new0 (VtServerInfo, 1);

  g_atomic_ref_count_init (&info->ref_count);
  info->base_url = g_strdup (base_url);
  g_mutex_init (&info->lock);
  info->model = vt_duration_model_new ();

  return info;
}

VtServerInfo *
vt_server_info_ref (VtServerInfo *info)
{
  g_atomic_ref_count_inc (&info->ref_count);
  return info;
}

void
vt_server_info_unref (VtServerInfo *info)
{
  if (!g_atomic_ref_count_dec (&info->ref_count))
    return;

  vt_duration_model_free (info->model);
  g_mutex_clear (&info->lock);
  g_free (info->base_url);
  g_free (info);
}

const char *
vt_server_info_get_base_url (VtServerInfo *info)
{
  return info->base_url;
}

/* Returns %FALSE while no answer of the server has told. */
gboolean
vt_server_info_get_capabilities (VtServerInfo   *info,
                                 VtCapabilities *capabilities)
{
  gboolean known;

  g_mutex_lock (&info->lock);
  known = info->capabilities_known;
  *capabilities = info->capabilities;
  g_mutex_unlock (&info->lock);

  return known;
}

/* What the latest answer announced. */
void
vt_server_info_set_capabilities (VtServerInfo   *info,
                                 VtCapabilities  capabilities)
{
  g_mutex_lock (&info->lock);
  info->capabilities = capabilities;
  info->capabilities_known = TRUE;
  g_mutex_unlock (&info->lock);
}

/* The server refused what it announced (a feed it cannot create, say):
 * later watches do not try again. */
void
vt_server_info_withdraw (VtServerInfo   *info,
                         VtCapabilities  capabilities)
{
  g_mutex_lock (&info->lock);
  info->capabilities &= ~capabilities;
  g_mutex_unlock (&info->lock);
}

/* A job ended between @ended_after and @ended_by seconds into its watch. */
void
vt_server_info_learn (VtServerInfo *info,
                      double        ended_after,
                      double        ended_by)
{
  g_mutex_lock (&info->lock);
  vt_duration_model_add_interval (info->model, ended_after, ended_by);
  g_mutex_unlock (&info->lock);
}

/* The learned durations, as [low, high] pairs of doubles. */
GArray *
vt_server_info_dup_durations (VtServerInfo *info)
{
  GArray *samples;

  g_mutex_lock (&info->lock);
  samples = vt_duration_model_dup_samples (info->model);
  g_mutex_unlock (&info->lock);

  return samples;
}

static void
log_plan (VtServerInfo *info)
{
  g_autoptr(GString) polls = NULL;

  if (!info->plan_usable)
    {
      g_debug ("%s: no learned plan (%u samples)", info->base_url,
               vt_duration_model_size (info->model));
      return;
    }

  polls = g_string_new (NULL);
  for (guint i = 0; i < info->plan.n_polls; i++)
    g_string_append_printf (polls, " %.3f", info->plan.polls[i]);
  g_debug ("%s: learned plan from %u samples, step %.3f s, polls at%s", info->base_url,
           vt_duration_model_size (info->model), info->plan.step, polls->str);
}

/* Where a watch with @config should poll this server's jobs, by what was
 * learned of them so far: %FALSE when too little is. */
gboolean
vt_server_info_get_plan (VtServerInfo           *info,
                         const VtScheduleConfig *config,
                         VtSchedulePlan         *plan)
{
  VtDurationEstimate estimate;
  guint64 version;
  gboolean usable;

  g_mutex_lock (&info->lock);
  version = vt_duration_model_version (info->model);

  if (!info->planned || info->plan_version != version ||
      !vt_schedule_config_equal (&info->plan_config, config))
    {
      info->plan_usable = vt_duration_model_estimate (info->model, &estimate) &&
                          vt_schedule_plan_build (config, &estimate, &info->plan);
      info->plan_config = *config;
      info->plan_version = version;
      info->planned = TRUE;
      log_plan (info);
    }

  usable = info->plan_usable;
  if (usable)
    *plan = info->plan;
  g_mutex_unlock (&info->lock);

  return usable;
}
