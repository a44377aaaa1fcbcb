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
		"[--cpus N] [--disk FILE[,ro]]...\n"
		"Boots a Linux bzImage or ELF vmlinux in a KVM micro-VM with its serial console\n"
		"on stdin/stdout; exits with the status the guest writes to port 0x%x.\n"
		"Each --disk is a virtio-blk disk (vda, vdb, ...; at most %d), read-only with "
		",ro.\n"
		"Default command line: %s\n"
		"WARD_VM_TRACE=1: a boot profile on stderr (milestones, exits per device).\n",
		VMM_STATUS_PORT, VMM_MAX_DISKS, VMM_DEFAULT_CMDLINE);
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

/* FILE or FILE,ro */
static int parse_disk(char *arg, struct vmm_config *cfg)
{
	char *comma = strrchr(arg, ',');
	struct vmm_disk *d;

	if (cfg->n_disks >= VMM_MAX_DISKS) {
		fprintf(stderr, "ward-vmm: at most %d disks\n", VMM_MAX_DISKS);
		return -1;
	}
	d = &cfg->disks[cfg->n_disks++];
	d->ro = false;
	if (comma && strcmp(comma, ",ro") == 0) {
		*comma = '\0';
		d->ro = true;
	} else if (comma && strcmp(comma, ",rw") == 0) {
		*comma = '\0';
	}
	if (!*arg) {
		fprintf(stderr, "ward-vmm: --disk needs a file\n");
		return -1;
	}
	d->path = arg;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"kernel", required_argument, NULL, 'k'},  {"initrd", required_argument, NULL, 'i'},
		{"cmdline", required_argument, NULL, 'c'}, {"mem", required_argument, NULL, 'm'},
		{"cpus", required_argument, NULL, 'n'},	   {"disk", required_argument, NULL, 'd'},
		{"help", no_argument, NULL, 'h'},	   {0},
	};
	struct vmm_config cfg = {
		.console_in = STDIN_FILENO, .console_out = STDOUT_FILENO, .seccomp = true};
	_cleanup_werr_ struct werr *err = NULL;
	int c, status = 0;

	while ((c = getopt_long(argc, argv, "k:i:c:m:n:d:h", opts, NULL)) != -1) {
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
		case 'd':
			if (parse_disk(optarg, &cfg) < 0)
				return EXIT_VMM_ERROR;
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
	if (getenv("WARD_VM_TRACE") && strcmp(getenv("WARD_VM_TRACE"), "0") != 0)
		cfg.trace_fd = STDERR_FILENO;
	if (vmm_run(&cfg, &status, &err) < 0) {
		fprintf(stderr, "ward-vmm: %s\n", err ? err->msg : "failed");
		return EXIT_VMM_ERROR;
	}
	return status;
}
