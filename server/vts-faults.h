/* vts-faults.h: injected failures around the handlers (--faults)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <libsoup/soup.h>

G_BEGIN_DECLS

/* What vts_faults_handle() calls to answer a request for real. */
typedef void (*VtsFaultsNextFunc) (SoupServerMessage *msg,
                                  const char        *path,
                                  GHashTable        *query,
                                  gpointer           user_data);

#define VTS_TYPE_FAULTS (vts_faults_get_type ())
G_DECLARE_FINAL_TYPE (VtsFaults, vts_faults, VTS, FAULTS, GObject)

VtsFaults *vts_faults_new    (GRand             *rand);
gboolean  vts_faults_add    (VtsFaults          *self,
                            const char        *spec,
                            GError           **error);
void      vts_faults_handle (VtsFaults          *self,
                            SoupServerMessage *msg,
                            const char        *path,
                            GHashTable        *query,
                            VtsFaultsNextFunc   next,
                            gpointer           next_data);

G_END_DECLS
