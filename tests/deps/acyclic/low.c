#include "low.h"


static int
helper(int x)
{
    return x * 2;
}


int
low_add(int a, int b)
{
    return helper(a) + b;
}
