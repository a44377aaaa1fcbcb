/* Setting up the container process inside its namespaces, just before execve. */
#ifndef WARD_RUNTIME_PROCESS_H
#define WARD_RUNTIME_PROCESS_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/err.h"
#include "runtime/spec.h"

/* Set each rlimit; an rlimit that cannot be set fails with a message naming it
 * ("setrlimit RLIMIT_NOFILE (soft 1048576, hard 1048576): Operation not permitted"). */
int process_apply_rlimits(const struct spec_process *p, struct werr **err);
/* oom_score_adj, personality (spec_linux), scheduler, ioPriority. Run as root before
 * dropping privileges. */
int process_apply_sched_oom(const struct spec_process *p, const struct spec_personality *pers,
			    struct werr **err);
int process_set_hostname(const char *hostname, const char *domainname, struct werr **err);
/* setgroups(additionalGids), setresgid, setresuid keeping capabilities across the uid change,
 * then apply the five capability sets with libcap (bounding drop, then inheritable/permitted/
 * effective, then ambient), umask (default 0022), no_new_privs. A NULL caps list means
 * "empty set". */
int process_set_user_caps(const struct spec_process *p, struct werr **err);
/* chdir to p->cwd inside the (already pivoted) root and verify the result is inside it:
 * getcwd must not start with "(unreachable)" (CVE-2024-21626 class). */
int process_chdir(const struct spec_process *p, struct werr **err);
/* Mark every fd >= 3 + preserve_fds close-on-exec (close_range with CLOSE_RANGE_CLOEXEC,
 * falling back to walking /proc/self/fd). */
int process_close_fds(int preserve_fds, struct werr **err);
/* runc's HOME: when p->env has none, append HOME=<the current uid's home in the container's
 * /etc/passwd, or "/">. Called inside the container once the user is final, before a seccomp
 * filter that might refuse the read. */
void process_set_home(struct spec_process *p);
/* execvp-like: search PATH from p->env (not ward's) when args[0] has no '/'; on failure
 * returns an error naming the executable, worded as runc ("exec: \"foo\": executable file not
 * found in $PATH", "exec /bin/x: permission denied"). */
int process_exec(const struct spec_process *p, struct werr **err);

/* HOME for uid from the text of an /etc/passwd: the home field of uid's first line, or NULL when
 * uid has no line (or an empty home). Heap-allocated. */
char *process_passwd_home(const char *passwd, uid_t uid);

/* The PATH search of process_exec: PATH from env (a default when unset), entries that are not
 * executable regular files skipped. *path is heap-allocated. */
int process_find_executable(char *const *env, const char *name, char **path, struct werr **err);
/* Capability names to a bit mask; names unknown to ward or above last_cap (the running
 * kernel's /proc/sys/kernel/cap_last_cap) are left out, as runc ignores them. */
uint64_t process_caps_mask(char *const *names, int last_cap);

#endif
