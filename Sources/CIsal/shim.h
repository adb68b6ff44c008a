#include <stdint.h>
#include <isa-l/igzip_lib.h>

// The level buffer sizes are macro expressions Swift does not import.
static inline uint32_t mcp_recorder_isal_level_buffer_size(uint32_t level) {
    switch (level) {
    case 1: return ISAL_DEF_LVL1_DEFAULT;
    case 2: return ISAL_DEF_LVL2_DEFAULT;
    case 3: return ISAL_DEF_LVL3_DEFAULT;
    default: return 0;
    }
}
