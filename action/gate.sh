#!/usr/bin/env bash
# The gate step of action.yml: choose the baseline (the pull request's base branch, else
# the commit a push started from), gate once for SARIF and the job summary, show the
# verdict in the log, and hand the gate's exit code on as the step output `exit-code`
# (the action fails in its last step, after the SARIF is uploaded).
#
# Inputs come as environment variables, never spliced into this script by the workflow
# (a branch name is attacker-chosen text): TRUSTMAP_TARGETS, TRUSTMAP_BASELINE,
# TRUSTMAP_ALLOW_UNKNOWN, TRUSTMAP_SARIF, TRUSTMAP_BEFORE, and GitHub's own GITHUB_*.
set -uo pipefail

output="${GITHUB_OUTPUT:-/dev/null}"
baseline="${TRUSTMAP_BASELINE:-}"
if [ -z "$baseline" ] && [ -n "${GITHUB_BASE_REF:-}" ]; then
    # actions/checkout fetches one commit: fetch the base branch's tip beside it.
    if ! git fetch --quiet --no-tags --depth=1 origin \
        "+refs/heads/${GITHUB_BASE_REF}:refs/remotes/origin/${GITHUB_BASE_REF}"; then
        echo "trustmap: cannot fetch the base branch ${GITHUB_BASE_REF} from origin" >&2
        echo "exit-code=2" >>"$output"
        exit 0
    fi
    baseline="git:origin/${GITHUB_BASE_REF}"
elif [ -z "$baseline" ] && [ -n "${TRUSTMAP_BEFORE:-}" ] \
    && [ "${TRUSTMAP_BEFORE}" != "0000000000000000000000000000000000000000" ]; then
    git fetch --quiet --no-tags --depth=1 origin "${TRUSTMAP_BEFORE}" || true
    baseline="git:${TRUSTMAP_BEFORE}"
fi

read -r -a targets <<<"${TRUSTMAP_TARGETS:-}"
args=(gate "${targets[@]}")
if [ -n "$baseline" ]; then
    args+=(--baseline "$baseline")
fi
if [ "${TRUSTMAP_ALLOW_UNKNOWN:-false}" = "true" ]; then
    args+=(--allow-unknown)
fi

trustmap "${args[@]}" -f sarif -o "${TRUSTMAP_SARIF:-trustmap.sarif}"
code=$?
# The verdict in the job log too. The cache is warm now, so this asks the index nothing
# new; the job summary already has the verdict once.
GITHUB_STEP_SUMMARY="" trustmap "${args[@]}" >&2 || true
echo "exit-code=${code}" >>"$output"
echo "baseline=${baseline}" >>"$output"
exit 0
