/* a.c -> b.c -> c.c -> a.c, and d.c -> a.c outside the cycle */
int b_run(int x);


int
a_run(int x)
{
    return x > 0 ? b_run(x - 1) : 0;
}
