/*
 * spin: never terminates; the harness must stop it by its timeout.
 * The counter is volatile so the loop is real work, not an empty loop the
 * compiler may treat specially. Used by the harness tests.
 */
int main(void)
{
    volatile unsigned long counter = 0;
    for (;;) {
        counter++;
    }
}
