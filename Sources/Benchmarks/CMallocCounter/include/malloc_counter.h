#pragma once
#include <stdint.h>

/// Heap allocations (malloc, calloc, realloc, memalign family) made by this process so far.
uint64_t mcp_recorder_allocations(void);
/// Bytes requested by those allocations.
uint64_t mcp_recorder_allocated_bytes(void);
