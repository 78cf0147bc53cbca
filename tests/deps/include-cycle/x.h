/* x.h -> y.h -> x.h; no calls between files */
#ifndef X_H
#define X_H
#include "y.h"
#endif
