/* vtclient.h: the one header applications include
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#define __VTCLIENT_INSIDE__

#include "vt-version-macros.h"
#include "vt-enums.h"
#include "vt-enum-types.h"
#include "vt-error.h"
#include "vt-job.h"
#include "vt-client.h"

#undef __VTCLIENT_INSIDE__
