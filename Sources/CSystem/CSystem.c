#include "CSystem.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

int csystem_release_freed_memory(void) {
#if defined(__GLIBC__)
    // Besides the top of each heap, glibc (2.8 and later) also hands back whole free pages in
    // the middle of every arena, which is where a finished phase's per-org arrays lie.
    return malloc_trim(0);
#else
    return 0;
#endif
}
