/* SPDX-License-Identifier: GPL-2.0 OR Apache-2.0 */
/*
 * The bulwark_objects map's value (bpf/lsm/self_protect.bpf.c,
 * engine/kernel/own_objects.cpp); its key is struct bw_object_key in
 * bulwark/abi.h. Apart from abi.h because only those two use it.
 */
#ifndef BULWARK_OWN_OBJECTS_ABI_H
#define BULWARK_OWN_OBJECTS_ABI_H

#include "bulwark/abi.h"

/* The bulwark that owns the object. Its parent (at start) may act on it;
 * so may a process running bulwark's own executable (a `bulwark run`
 * taking over, `bulwark status`, `bulwark stop`). */
struct bw_object_owner {
	__u64 exe_ino;               /* bulwark's executable: inode */
	__u32 exe_dev;               /* and device, the kernel's encoding (MAJOR << 20 | MINOR) */
	__u32 parent_tgid;           /* getppid() of bulwark when it registered the object */
};

#define BW_MAX_OWN_OBJECTS 4096  /* bulwark_objects entries */

#endif /* BULWARK_OWN_OBJECTS_ABI_H */
