#ifndef CSYSTEM_H
#define CSYSTEM_H

/// Returns memory that the C allocator holds freed back to the system, where the allocator can
/// (glibc's malloc_trim); elsewhere it does nothing. Returns 1 when memory was released.
int csystem_release_freed_memory(void);

#endif
