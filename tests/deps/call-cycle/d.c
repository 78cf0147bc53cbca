int a_run(int x);


int
d_run(void)
{
    return a_run(3);
}
