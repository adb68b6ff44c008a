// Only the declaration in include/CLibFuzzer.h matters; libFuzzer defines the function.
#include "CLibFuzzer.h"
