/* inventory.json: the image's format version, the ward that wrote it, the process tree's pids
 * and a sum (checkpoint/sum.h) of every other file. Restore reads nothing that the inventory does
 * not vouch for. */
#ifndef WARD_CHECKPOINT_INVENTORY_H
#define WARD_CHECKPOINT_INVENTORY_H

#include <stddef.h>
#include <sys/types.h>

#include "lib/err.h"

struct ck_inventory {
	int format;
	char *ward_version;
	pid_t root_pid;
	pid_t *pids; /* tree order: a parent before its children */
	size_t npids;
	char *parent; /* pre-copy: the parent image's directory (absolute), or NULL */
	char **files; /* names, with sums[i] their sum in hex (sum.h) */
	char **sums;
	size_t nfiles;
};

void ck_inventory_free(struct ck_inventory *inv);
/* Compute the sums of inv->files in dirfd and write inventory.json (inv->format, or CK_FORMAT_BASE when 0). */
int ck_inventory_write(int dirfd, struct ck_inventory *inv, struct werr **err);
/* Parse inventory.json text (no file checks). */
int ck_inventory_parse(const char *text, struct ck_inventory *inv, struct werr **err);
/* Read inventory.json from dirfd, refuse another format version, verify every file's sum. */
int ck_inventory_load(int dirfd, struct ck_inventory *inv, struct werr **err);
/* The same, but pages-*.img are not verified: the caller checks them against ck_inventory_sum
 * while it reads them (once, in order) and uses nothing of them before. */
int ck_inventory_load_but_pages(int dirfd, struct ck_inventory *inv, struct werr **err);
/* The sum listed for name, or NULL. */
const char *ck_inventory_sum(const struct ck_inventory *inv, const char *name);
/* Add a file of the image (name is taken over), with its sum in hex when already known
 * (NULL: ck_inventory_write computes it from the file): files and sums keep the same length. */
void ck_inventory_add(struct ck_inventory *inv, char *name, const char *sum);
/* Whether name is listed (restore opens only listed files). */
int ck_inventory_has(const struct ck_inventory *inv, const char *name);

#endif
