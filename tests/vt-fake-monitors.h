/* vt-fake-monitors.h: a network monitor and a power-profile monitor whose
 * state the tests set
 *
 * VtClient:network-monitor and VtClient:power-profile-monitor take any
 * GNetworkMonitor and GPowerProfileMonitor: these answer what the test
 * says, and announce a change as the system's do (network-changed;
 * notify::power-saver-enabled).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define VT_TYPE_FAKE_NETWORK_MONITOR (vt_fake_network_monitor_get_type ())
G_DECLARE_FINAL_TYPE (VtFakeNetworkMonitor, vt_fake_network_monitor,
                      VT, FAKE_NETWORK_MONITOR, GObject)

/* Online: a default route, every host reachable. */
VtFakeNetworkMonitor *vt_fake_network_monitor_new (void);
/* @available: a default route; @reachable: what can_reach() answers
 * without one (a server on this machine: TRUE). Emits network-changed. */
void  vt_fake_network_monitor_set (VtFakeNetworkMonitor *self,
                                   gboolean              available,
                                   gboolean              reachable);
/* How many times can_reach() or can_reach_async() was asked. */
guint vt_fake_network_monitor_get_n_checks (VtFakeNetworkMonitor *self);

#define VT_TYPE_FAKE_POWER_MONITOR (vt_fake_power_monitor_get_type ())
G_DECLARE_FINAL_TYPE (VtFakePowerMonitor, vt_fake_power_monitor,
                      VT, FAKE_POWER_MONITOR, GObject)

/* Not saving power. */
VtFakePowerMonitor *vt_fake_power_monitor_new (void);
void  vt_fake_power_monitor_set_power_saver (VtFakePowerMonitor *self,
                                             gboolean            enabled);

G_END_DECLS
