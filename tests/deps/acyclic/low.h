#include <stddef.h>
int low_add(int a, int b);
