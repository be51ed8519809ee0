/* Stand-in service for booting the initramfs before the real llmboxd exists: prints its
 * arguments and waits; SIGTERM ends it. Not part of any image unless SERVICE_BIN points here. */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    printf("stub_llmboxd:");
    for (int i = 1; i < argc; i++)
        printf(" %s", argv[i]);
    printf("\n");
    fflush(stdout);
    for (;;)
        pause();
}
