/* Name tables shared by the config.json parser and the features document. */
#ifndef WARD_RUNTIME_SPEC_NAMES_H
#define WARD_RUNTIME_SPEC_NAMES_H

#include <stdbool.h>

/* Number of capabilities ward knows (0 .. n-1) and the "CAP_*" name of one. */
int spec_cap_count(void);
const char *spec_cap_name(int cap);
bool spec_cap_known(const char *name);

#endif
