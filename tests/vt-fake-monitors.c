/* vt-fake-monitors.c: monitors whose state the tests set
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "vt-fake-monitors.h"

/* ------------------------------------------------------------------ */
/* The network                                                         */

struct _VtFakeNetworkMonitor
{
  GObject  parent_instance;
  gboolean available;
  gboolean reachable;
  guint    n_checks;
};

enum {
  NET_PROP_0,
  NET_PROP_NETWORK_AVAILABLE,
  NET_PROP_NETWORK_METERED,
  NET_PROP_CONNECTIVITY,
};

static void vt_fake_network_monitor_iface_init (GNetworkMonitorInterface *iface);
static void vt_fake_network_monitor_initable_iface_init (GInitableIface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (VtFakeNetworkMonitor, vt_fake_network_monitor, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_INITABLE,
                                                      vt_fake_network_monitor_initable_iface_init)
                               G_IMPLEMENT_INTERFACE (G_TYPE_NETWORK_MONITOR,
                                                      vt_fake_network_monitor_iface_init))

static gboolean
fake_initable_init (GInitable     *initable,
                    GCancellable  *cancellable,
                    GError       **error)
{
  return TRUE;
}

static void
vt_fake_network_monitor_initable_iface_init (GInitableIface *iface)
{
  iface->init = fake_initable_init;
}

static gboolean
fake_can_reach (GNetworkMonitor     *monitor,
                GSocketConnectable  *connectable,
                GCancellable        *cancellable,
                GError             **error)
{
  VtFakeNetworkMonitor *self = VT_FAKE_NETWORK_MONITOR (monitor);

  self->n_checks++;
  if (self->available || self->reachable)
    return TRUE;

  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_HOST_UNREACHABLE, "Host unreachable");
  return FALSE;
}

/* Answered from an idle, as a real lookup would be: later, never within
 * the call. */
static void
fake_can_reach_async (GNetworkMonitor     *monitor,
                      GSocketConnectable  *connectable,
                      GCancellable        *cancellable,
                      GAsyncReadyCallback  callback,
                      gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (monitor, cancellable, callback, user_data);
  GError *error = NULL;

  g_task_set_source_tag (task, fake_can_reach_async);
  if (fake_can_reach (monitor, connectable, cancellable, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

static gboolean
fake_can_reach_finish (GNetworkMonitor  *monitor,
                       GAsyncResult     *result,
                       GError          **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
vt_fake_network_monitor_iface_init (GNetworkMonitorInterface *iface)
{
  iface->can_reach = fake_can_reach;
  iface->can_reach_async = fake_can_reach_async;
  iface->can_reach_finish = fake_can_reach_finish;
}

static void
vt_fake_network_monitor_get_property (GObject    *object,
                                      guint       prop_id,
                                      GValue     *value,
                                      GParamSpec *pspec)
{
  VtFakeNetworkMonitor *self = VT_FAKE_NETWORK_MONITOR (object);

  switch (prop_id)
    {
    case NET_PROP_NETWORK_AVAILABLE:
      g_value_set_boolean (value, self->available);
      break;
    case NET_PROP_NETWORK_METERED:
      g_value_set_boolean (value, FALSE);
      break;
    case NET_PROP_CONNECTIVITY:
      g_value_set_enum (value, self->available ? G_NETWORK_CONNECTIVITY_FULL
                                               : G_NETWORK_CONNECTIVITY_LOCAL);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
vt_fake_network_monitor_class_init (VtFakeNetworkMonitorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = vt_fake_network_monitor_get_property;
  g_object_class_override_property (object_class, NET_PROP_NETWORK_AVAILABLE, "network-available");
  g_object_class_override_property (object_class, NET_PROP_NETWORK_METERED, "network-metered");
  g_object_class_override_property (object_class, NET_PROP_CONNECTIVITY, "connectivity");
}

static void
vt_fake_network_monitor_init (VtFakeNetworkMonitor *self)
{
  self->available = TRUE;
  self->reachable = TRUE;
}

VtFakeNetworkMonitor *
vt_fake_network_monitor_new (void)
{
  return g_object_new (VT_TYPE_FAKE_NETWORK_MONITOR, NULL);
}

void
vt_fake_network_monitor_set (VtFakeNetworkMonitor *self,
                             gboolean              available,
                             gboolean              reachable)
{
  gboolean changed = self->available != available;

  self->available = available;
  self->reachable = reachable;
  if (changed)
    g_object_notify (G_OBJECT (self), "network-available");
  g_signal_emit_by_name (self, "network-changed", available);
}

guint
vt_fake_network_monitor_get_n_checks (VtFakeNetworkMonitor *self)
{
  return self->n_checks;
}

/* ------------------------------------------------------------------ */
/* Power                                                               */

struct _VtFakePowerMonitor
{
  GObject  parent_instance;
  gboolean power_saver;
};

enum {
  POWER_PROP_0,
  POWER_PROP_POWER_SAVER_ENABLED,
};

static void vt_fake_power_monitor_iface_init (GPowerProfileMonitorInterface *iface);
static void vt_fake_power_monitor_initable_iface_init (GInitableIface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (VtFakePowerMonitor, vt_fake_power_monitor, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_INITABLE,
                                                      vt_fake_power_monitor_initable_iface_init)
                               G_IMPLEMENT_INTERFACE (G_TYPE_POWER_PROFILE_MONITOR,
                                                      vt_fake_power_monitor_iface_init))

static void
vt_fake_power_monitor_initable_iface_init (GInitableIface *iface)
{
  iface->init = fake_initable_init;
}

static void
vt_fake_power_monitor_iface_init (GPowerProfileMonitorInterface *iface)
{
}

static void
vt_fake_power_monitor_get_property (GObject    *object,
                                    guint       prop_id,
                                    GValue     *value,
                                    GParamSpec *pspec)
{
  VtFakePowerMonitor *self = VT_FAKE_POWER_MONITOR (object);

  switch (prop_id)
    {
    case POWER_PROP_POWER_SAVER_ENABLED:
      g_value_set_boolean (value, self->power_saver);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
vt_fake_power_monitor_class_init (VtFakePowerMonitorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = vt_fake_power_monitor_get_property;
  g_object_class_override_property (object_class, POWER_PROP_POWER_SAVER_ENABLED,
                                    "power-saver-enabled");
}

static void
vt_fake_power_monitor_init (VtFakePowerMonitor *self)
{
}

VtFakePowerMonitor *
vt_fake_power_monitor_new (void)
{
  return g_object_new (VT_TYPE_FAKE_POWER_MONITOR, NULL);
}

void
vt_fake_power_monitor_set_power_saver (VtFakePowerMonitor *self,
                                       gboolean            enabled)
{
  if (self->power_saver == enabled)
    return;

  self->power_saver = enabled;
  g_object_notify (G_OBJECT (self), "power-saver-enabled");
}
