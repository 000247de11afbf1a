/*
 * trap: executes a trap instruction at once. In WebAssembly that is
 * `unreachable`; natively it is ud2 on x86-64 (SIGILL) and brk on aarch64
 * (SIGTRAP). Used by the harness tests.
 */
int main(void)
{
    __builtin_trap();
}
