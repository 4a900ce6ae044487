/* LD_PRELOAD SG_IO shim: see sgshim.c. No symbols are meant to be called from Swift. */
#pragma once
