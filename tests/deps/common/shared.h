/* the shared folder beside a fixture: listed, never in a cycle */
#include "m.h"
