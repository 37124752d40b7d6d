# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The deploy jobs of docs/examples/ (GitHub Actions, GitLab CI, Ansible),
# their own steps run against the lab: backend 2 is upgraded while long
# downloads flow through it, and not one of them may break.
#
# Only the CI service is left out: the steps are read from each file and
# run as the runner would (bash -e per GitHub step, one bash -e script for
# GitLab, ansible-playbook for Ansible). ON_LB is empty (sluicectl reaches
# the control socket directly) and ON_BACKEND enters backend 2's
# namespace. systemd is not PID 1 on these machines, so "myapp" is driven
# by a systemctl stand-in that stops and starts backend 2's real server by
# PID, and apt-get by one that records the version asked for.

PL_BACKEND=198.18.20.12
PL_VERSION=2.0.0
PL_SOURCES=198.18.10.2,198.18.10.3,198.18.10.4,198.18.10.5,198.18.10.6,198.18.10.7

# The stand-ins and the wrapper, in $LAB_DIR/pl/.
pl_setup() {
	local d=${LAB_DIR:?}/pl
	mkdir -p "$d/bin"
	cat >"$d/bin/systemctl" <<STANDIN
#!/bin/bash
# systemctl stop|start myapp: backend 2's lab server, by its PID.
echo "\$(date +%s.%N) systemctl \$*" >>"$d/calls"
[[ \$2 == myapp ]] || { echo "systemctl stand-in: only myapp" >&2; exit 5; }
case \$1 in
stop)
	pid=\$(cat "$LAB_DIR/be2.pid") || exit 1
	kill "\$pid" || exit 1
	for i in \$(seq 1 100); do kill -0 "\$pid" 2>/dev/null || exit 0; sleep 0.05; done
	exit 1 ;;
start)
	nsenter --net=/run/netns/${LAB_P}-be2 python3 "$LAB_SRC/scripts/lab-server.py" \\
		--name be2 </dev/null >>"$LAB_DIR/be2.log" 2>&1 &
	pid=\$!
	echo \$pid >"$LAB_DIR/be2.pid"
	# As lab_track does: PID and start time, or lab_down leaves it running.
	stat=\$(cat /proc/\$pid/stat); rest=\${stat##*) }; read -ra f <<<"\$rest"
	echo "\$pid \${f[19]}" >>"$LAB_DIR/pids" ;;
*) exit 1 ;;
esac
STANDIN
	cat >"$d/bin/apt-get" <<STANDIN
#!/bin/bash
# apt-get install -y --only-upgrade myapp=VERSION: records the version.
echo "\$(date +%s.%N) apt-get \$*" >>"$d/calls"
[[ " \$* " == *" install "* && " \$* " == *" myapp="* ]] || exit 100
all="\$*"
v=\${all##*myapp=}
echo "\${v%% *}" >"$d/version"
STANDIN
	# ON_BACKEND: run the command on backend 2 (its namespace).
	cat >"$d/on-be2" <<STANDIN
#!/bin/bash
exec nsenter --net=/run/netns/${LAB_P}-be2 "\$@"
STANDIN
	chmod +x "$d/bin/"* "$d/on-be2"
	: >"$d/calls"
}

# What every job's run must show: long downloads through backend 2 all
# intact, the service stopped only after the drain, upgraded, back in
# service and taking new connections.
pl_run_checked() {	# runner-function
	local runner=$1 d=${LAB_DIR:?}/pl rc after calls
	pl_setup
	it_streams_start pl 24 3000000 6 --sources "$PL_SOURCES" || return 1
	it_wait_ge 10 1 it_flows "$LAB_VIP4:80/tcp" "$PL_BACKEND" || return 1
	echo "flows on $PL_BACKEND before the job: $(it_flows "$LAB_VIP4:80/tcp" "$PL_BACKEND")"
	# Bounded by the runner's watchdog (IT_TIMEOUT), like every test.
	PATH=$d/bin:$LAB_BUILD:$PATH SLUICE_SOCKET=$LAB_DIR/sluiced.sock \
		"$runner" >"$d/job.log" 2>&1
	rc=$?
	cat "$d/job.log"
	assert_eq "job exit code" 0 "$rc" || return 1
	it_streams_wait pl >/dev/null
	it_streams_all_ok pl 24 || return 1
	calls=$(cut -d' ' -f2- "$d/calls")
	echo "calls on the backend:"
	echo "$calls"
	assert_eq "calls, in order" "systemctl stop myapp
apt-get install -y --only-upgrade myapp=$PL_VERSION
systemctl start myapp" "$calls" || return 1
	assert_eq "version installed" "$PL_VERSION" "$(cat "$d/version")" || return 1
	assert_eq "state of $PL_BACKEND after the job" active \
		"$(it_state "$LAB_VIP4:80/tcp" "$PL_BACKEND")" || return 1
	after=$(lab_client get --vip "$LAB_VIP4" --count 60 --sources "$PL_SOURCES")
	assert_eq "failed requests after the job" 0 "$(echo "$after" | json - "j['errors']")" || return 1
	assert_ge "new connections reaching be2 after the job" \
		"$(echo "$after" | json - "j['backends'].get('be2', 0)")" 1
}

# The steps of jobs.deploy, each with the job's env (inputs filled in,
# ON_LB/ON_BACKEND pointed at the lab), under bash -e as GitHub runs them.
pl_github() {
	python3 - "$LAB_SRC/docs/examples/github-actions-deploy.yml" "$PL_BACKEND" \
		"$PL_VERSION" "$LAB_DIR/pl" <<'PY'
import os, subprocess, sys, yaml
path, backend, version, d = sys.argv[1:]
text = open(path).read()
text = text.replace("${{ inputs.backend }}", backend).replace("${{ inputs.version }}", version)
job = yaml.safe_load(text)["jobs"]["deploy"]
env = dict(os.environ, **{k: str(v) for k, v in job["env"].items()})
env.update(ON_LB="", ON_BACKEND=d + "/on-be2")
for step in job["steps"]:
    print("--- step:", step["name"], flush=True)
    rc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c",
                         step["run"]], env=env).returncode
    if rc:
        print("--- step failed:", rc, flush=True)
        sys.exit(rc)
PY
}

# deploy-backend's script, in one shell, as the GitLab runner does.
pl_gitlab() {
	python3 - "$LAB_SRC/docs/examples/gitlab-ci-deploy.yml" "$PL_BACKEND" \
		"$PL_VERSION" "$LAB_DIR/pl" <<'PY'
import os, subprocess, sys, yaml
path, backend, version, d = sys.argv[1:]
job = yaml.safe_load(open(path))["deploy-backend"]
env = dict(os.environ, **{k: str(v) for k, v in job["variables"].items()})
env.update(BACKEND=backend, VERSION=version, ON_LB="", ON_BACKEND=d + "/on-be2")
script = "\n".join(job["script"])
sys.exit(subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
                        env=env).returncode)
PY
}

# The playbook itself, run by ansible-playbook inside backend 2's namespace
# (the "backends" host is that machine; the "lb" host reaches sluiced's
# socket, which no network namespace confines).
pl_ansible() {
	local d=${LAB_DIR:?}/pl
	printf '[backends]\n%s ansible_connection=local\n[lb]\nlb1 ansible_connection=local\n' \
		"$PL_BACKEND" >"$d/inventory"
	ANSIBLE_LOCAL_TEMP=$d/tmp ANSIBLE_NOCOLOR=1 ANSIBLE_RETRY_FILES_ENABLED=0 \
		nsenter --net="/run/netns/${LAB_P}-be2" ansible-playbook -i "$d/inventory" \
		-e version="$PL_VERSION" -e ansible_become=false \
		-e ansible_python_interpreter=/usr/bin/python3 \
		"$LAB_SRC/docs/examples/ansible-deploy.yml"
}

t_pipeline_github_actions() {
	pl_run_checked pl_github
}

t_pipeline_gitlab_ci() {
	pl_run_checked pl_gitlab
}

t_pipeline_ansible() {
	command -v ansible-playbook >/dev/null ||
		skip "ansible-playbook not installed (scripts/install-deps.sh installs ansible-core)"
	pl_run_checked pl_ansible
}
