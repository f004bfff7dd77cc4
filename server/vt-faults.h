/* vt-faults.h: injected failures around the handlers (--faults)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <libsoup/soup.h>

G_BEGIN_DECLS

/* What vt_faults_handle() calls to answer a request for real. */
typedef void (*VtFaultsNextFunc) (SoupServerMessage *msg,
                                  const char        *path,
                                  GHashTable        *query,
                                  gpointer           user_data);

#define VT_TYPE_FAULTS (vt_faults_get_type ())
G_DECLARE_FINAL_TYPE (VtFaults, vt_faults, VT, FAULTS, GObject)

VtFaults *vt_faults_new    (GRand             *rand);
gboolean  vt_faults_add    (VtFaults          *self,
                            const char        *spec,
                            GError           **error);
void      vt_faults_handle (VtFaults          *self,
                            SoupServerMessage *msg,
                            const char        *path,
                            GHashTable        *query,
                            VtFaultsNextFunc   next,
                            gpointer           next_data);

G_END_DECLS
