/* The page server: a dump sends its images over TCP to a receiver that writes them into its own
 * directory (pre-copy migration). The stream is in FORMAT.md ("Page server stream"). */
#ifndef WARD_CHECKPOINT_PAGE_SERVER_H
#define WARD_CHECKPOINT_PAGE_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"

/* ---- sender ---- */
struct ck_ps_conn;
/* Connect to addr ("HOST:PORT", numeric IPv4 or IPv6 in brackets) and announce the image name
 * (a directory of the receiver's --image-path; [A-Za-z0-9._-], not "." or ".."). */
int ck_ps_connect(const char *addr, const char *image, struct ck_ps_conn **out, struct werr **err);
/* One file of size bytes, then ck_ps_write exactly size bytes, then ck_ps_file_end. The sum
 * of the data is kept for the inventory (ck_ps_sum). */
int ck_ps_file_begin(struct ck_ps_conn *c, const char *name, uint64_t size, struct werr **err);
int ck_ps_write(struct ck_ps_conn *c, const void *buf, size_t n, struct werr **err);
int ck_ps_file_end(struct ck_ps_conn *c, struct werr **err);
/* The sum (hex, sum.h) of a file sent on c, or NULL. */
const char *ck_ps_sum(const struct ck_ps_conn *c, const char *name);
/* Send the local file dirfd/name as it is. */
int ck_ps_send_file(struct ck_ps_conn *c, int dirfd, const char *name, struct werr **err);
/* End the image (final: the receiver stops serving afterwards) and wait for the receiver to
 * confirm that it holds every byte. */
int ck_ps_finish(struct ck_ps_conn *c, bool final, struct werr **err);
uint64_t ck_ps_bytes(const struct ck_ps_conn *c); /* payload bytes sent so far */

/* For ck_dump: the parent image's entry in an inventory sent to a page server ("../NAME",
 * NAME its directory's last component: images are siblings on the receiver); the sums of the
 * files sent on c into inv->sums; then every file of inv and inventory.json from dirfd. */
struct ck_inventory;
char *ck_ps_parent_name(const char *parent_dir);
void ck_ps_preset_sums(const struct ck_ps_conn *c, struct ck_inventory *inv);
int ck_ps_send_image(struct ck_ps_conn *c, int dirfd, const struct ck_inventory *inv,
		     struct werr **err);
void ck_ps_close(struct ck_ps_conn *c);

/* ---- receiver ---- */
/* A listening TCP socket on addr (port 0: any free port); *port gets the port. */
int ck_ps_listen(const char *addr, int *port, struct werr **err);
struct ck_ps_round {
	const char *image; /* the image's name (its directory under dir) */
	int nfiles;
	uint64_t bytes;	      /* payload bytes */
	uint64_t pages_bytes; /* of pages-*.img */
	bool final;
};
/* Accept senders one after the other on lfd and write each image into dir/<image>/, until an
 * image ends with final. report (if not NULL) is called after each image. */
int ck_ps_serve(int lfd, const char *dir, void (*report)(const struct ck_ps_round *, void *),
		void *arg, struct werr **err);

#endif
