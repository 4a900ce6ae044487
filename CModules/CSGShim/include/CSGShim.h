/*
 * CSGShim: the LD_PRELOAD library (product libfcinit-sgshim.so) that makes $FCINIT_DEVICE
 * behave as a SCSI generic device whose commands go to the SG bridge socket $FCINIT_SGBRIDGE.
 * It exports only the interposed libc functions; nothing here is meant to be called from
 * Swift. The wire protocol is in fcinit_sgbridge.h.
 */
#pragma once
#include "fcinit_sgbridge.h"
