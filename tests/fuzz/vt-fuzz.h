/* vt-fuzz.h: what every fuzz target and the standalone driver share
 *
 * Each target defines LLVMFuzzerTestOneInput(). Under -Dfuzzing=true with
 * clang, libFuzzer provides main(); otherwise standalone-main.c does, and
 * replays corpus files through the same entry point.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>
#include <stddef.h>
#include <stdint.h>

G_BEGIN_DECLS

int LLVMFuzzerInitialize   (int            *argc,
                            char         ***argv);
int LLVMFuzzerTestOneInput (const uint8_t  *data,
                            size_t          size);

void vt_fuzz_init_glib      (void);

G_END_DECLS
