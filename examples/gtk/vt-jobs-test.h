/* vt-jobs-test.h: vt-jobs' test hook (--test-dir)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "vt-jobs-window.h"

G_BEGIN_DECLS

void vt_jobs_test_start (VtJobsWindow *window,
                         const char   *dir,
                         guint         expected_rows,
                         int          *exit_status);

G_END_DECLS
