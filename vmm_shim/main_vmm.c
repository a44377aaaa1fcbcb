/* ward-vmm: the developer's front end to vmm_shim. Boots a kernel with the console on
 * stdin/stdout and exits with the status the guest reported through the status port (0 after a
 * clean poweroff or reboot; 125 and a message when the VM could not run). */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/util.h"
#include "vmm_shim/vmm.h"

#define EXIT_VMM_ERROR 125

static void usage(FILE *f)
{
	fprintf(f,
		"usage: ward-vmm --kernel FILE [--initrd FILE] [--cmdline STRING] [--mem MiB] "
		"[--cpus N]\n"
		"Boots a Linux bzImage or ELF vmlinux in a KVM micro-VM with its serial console\n"
		"on stdin/stdout; exits with the status the guest writes to port 0x%x.\n"
		"Default command line: %s\n",
		VMM_STATUS_PORT, VMM_DEFAULT_CMDLINE);
}

static int parse_uint(const char *opt, const char *s, unsigned *out)
{
	long long v;

	if (parse_int64(s, &v) < 0 || v < 0 || v > UINT_MAX) {
		fprintf(stderr, "ward-vmm: %s: not a number: %s\n", opt, s);
		return -1;
	}
	*out = (unsigned)v;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"kernel", required_argument, NULL, 'k'},
		{"initrd", required_argument, NULL, 'i'},
		{"cmdline", required_argument, NULL, 'c'},
		{"mem", required_argument, NULL, 'm'},
		{"cpus", required_argument, NULL, 'n'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	struct vmm_config cfg = {.console_in = STDIN_FILENO, .console_out = STDOUT_FILENO};
	_cleanup_werr_ struct werr *err = NULL;
	int c, status = 0;

	while ((c = getopt_long(argc, argv, "k:i:c:m:n:h", opts, NULL)) != -1) {
		switch (c) {
		case 'k':
			cfg.kernel = optarg;
			break;
		case 'i':
			cfg.initrd = optarg;
			break;
		case 'c':
			cfg.cmdline = optarg;
			break;
		case 'm':
			if (parse_uint("--mem", optarg, &cfg.mem_mib) < 0)
				return EXIT_VMM_ERROR;
			break;
		case 'n':
			if (parse_uint("--cpus", optarg, &cfg.n_vcpus) < 0)
				return EXIT_VMM_ERROR;
			if (cfg.n_vcpus == 0) {
				fprintf(stderr, "ward-vmm: --cpus must be at least 1\n");
				return EXIT_VMM_ERROR;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_VMM_ERROR;
		}
	}
	if (!cfg.kernel || optind != argc) {
		usage(stderr);
		return EXIT_VMM_ERROR;
	}
	if (vmm_run(&cfg, &status, &err) < 0) {
		fprintf(stderr, "ward-vmm: %s\n", err ? err->msg : "failed");
		return EXIT_VMM_ERROR;
	}
	return status;
}
