/* The record of `ward update`: each update that the kernel took is one line of the state dir's
 * updates.jsonl (an OCI linux.resources object on one line), so that checkpoint can put the
 * container's limits as they are now into the image (config.json alone has them as they were
 * at create) and restore can apply them again, in the same order, on top of the bundle's. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "lib/util.h"
#include "runtime/cgroup.h"
#include "runtime/spec_gen.h"
#include "runtime/spec_json.h"
#include "runtime/spec_parse.h"

/* JSON may break lines and indent only between tokens (a string holds its newlines and tabs
 * escaped): blanking them keeps the document and puts it on one line. */
static void one_line(char *json)
{
	size_t n = strlen(json);

	for (size_t i = 0; i < n; i++)
		if (json[i] == '\n' || json[i] == '\r' || json[i] == '\t')
			json[i] = ' ';
	while (n && json[n - 1] == ' ')
		json[--n] = 0;
}

static void ku64(yajl_gen g, const char *key, struct opt_u64 v)
{
	if (v.set)
		jg_ku64(g, key, v.v);
}

static void ki64(yajl_gen g, const char *key, struct opt_i64 v)
{
	if (v.set)
		jg_kint(g, key, v.v);
}

char *cgroup_update_flags_json(const struct cgroup_resources *res)
{
	yajl_gen g = jg_new();
	char *text;

	jg_kopen(g, NULL);
	jg_kopen(g, "memory");
	ki64(g, "limit", res->memory.limit);
	ki64(g, "reservation", res->memory.reservation);
	ki64(g, "swap", res->memory.swap);
	jg_close(g);
	jg_kopen(g, "cpu");
	ku64(g, "shares", res->cpu.shares);
	ki64(g, "quota", res->cpu.quota);
	ku64(g, "burst", res->cpu.burst);
	ku64(g, "period", res->cpu.period);
	ki64(g, "realtimeRuntime", res->cpu.realtime_runtime);
	ku64(g, "realtimePeriod", res->cpu.realtime_period);
	if (res->cpu.cpus)
		jg_kstr(g, "cpus", res->cpu.cpus);
	if (res->cpu.mems)
		jg_kstr(g, "mems", res->cpu.mems);
	jg_close(g);
	jg_kopen(g, "pids");
	ki64(g, "limit", res->pids.limit);
	jg_close(g);
	jg_kopen(g, "blockIO");
	ku64(g, "weight", res->block_io.weight);
	jg_close(g);
	jg_close(g);
	text = jg_finish(g);
	one_line(text);
	return text;
}

int cgroup_update_record(const char *state_dir, const char *json, struct werr **err)
{
	_cleanup_free_ char *path = xasprintf("%s/updates.jsonl", state_dir);
	_cleanup_free_ char *flat = xstrdup(json);
	_cleanup_free_ char *line = NULL;
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);

	one_line(flat);
	line = xasprintf("%s\n", flat);
	if (fd < 0 || write_all(fd, line, strlen(line)) < 0)
		return werr_sys(err, errno, "record the update in %s", path);
	return 0;
}

int cgroup_updates_apply(struct cgroup *cg, const char *file, struct werr **err)
{
	_cleanup_free_ char *text = NULL;
	char *line, *save = NULL;
	size_t len, n = 0;
	int r = read_file(file, &text, &len, NULL);

	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return werr_sys(err, -r, "read %s", file);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		_cleanup_free_ char *what = xasprintf("%s, update %zu", file, ++n);
		struct jctx c = {.what = what, .err = err};
		struct cgroup_resources res = {0};

		r = jparse_object(&c, line, strlen(line), spec_parse_resources, &res);
		/* `ward update` never records devices: an image's record with them is not ours
		 * (it would widen the container's device access) */
		if (r == 0 && res.n_devices)
			r = werr_set(err, EINVAL, "devices cannot be updated");
		if (r == 0)
			r = cgroup_apply(cg, &res, true, err);
		cgroup_resources_free(&res);
		if (r < 0)
			return werr_wrap(err, "apply %s", what);
	}
	return 0;
}
