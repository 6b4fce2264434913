#!/bin/sh
# cairn-packer-hook.sh: bake the machine Packer is building with cairn.
#
# Runs on the machine that runs Packer (a shell-local provisioner), writes a
# one-host inventory for the build VM from Packer's connection values, and runs
#   cairn apply --bake -i <that inventory> --accept-new-host-keys
# so the VM gets the roles, then bake-cleanup removes its identity (SSH host
# keys, machine id, node ids, logs, caches, ...). See docs/bake.md.
#
# Environment (set by templates/packer/cairn.pkr.hcl):
#   CAIRN_SSH_HOST, CAIRN_SSH_PORT, CAIRN_SSH_USER   ${build.Host} ${build.Port} ${build.User}
#   CAIRN_SSH_PRIVATE_KEY       ${build.SSHPrivateKey} (the key text; written to a 0600 temp file)
#   CAIRN_SSH_KEY_FILE          or: a private key file (used when CAIRN_SSH_PRIVATE_KEY is empty)
#   CAIRN_ROLES                 roles of the image, in order, comma or space separated (required)
#   CAIRN_ROLES_DIR             directory of project roles (<dir>/<role>/index.ts); default: built-ins only
#   CAIRN_VARS_FILE             YAML file with a map of vars for the image (optional)
#   CAIRN_HOST_NAME             inventory name of the build VM (default: image)
#   CAIRN_BECOME                false | sudo | doas (default: false for root, sudo otherwise)
#   CAIRN_CMD                   how to run cairn (default: cairn), e.g. "node /opt/cairn/src/cli/bin.js"
#   CAIRN_ARGS                  extra arguments for cairn apply (e.g. "--json" or "-e nomad_version=1.9.7")
#   CAIRN_KEEP_DIR              keep the temp directory (inventory, known_hosts) for debugging: 1
#
# Host keys: a fresh build VM has a new host key every build, so the key is
# recorded on first use (--accept-new-host-keys) in a known_hosts file made for
# this build and deleted with it; ~/.ssh/known_hosts is never read or written.
# ~/.ssh/config and the ssh-agent are not used either: only the build's key.
set -eu

die() { echo "cairn-packer-hook: $*" >&2; exit 2; }

: "${CAIRN_SSH_HOST:?CAIRN_SSH_HOST is not set (pass \${build.Host})}"
: "${CAIRN_ROLES:?CAIRN_ROLES is not set: the roles of the image, e.g. CAIRN_ROLES=base,consul,nomad}"
port=${CAIRN_SSH_PORT:-22}
user=${CAIRN_SSH_USER:-root}
name=${CAIRN_HOST_NAME:-image}
case $port in '' | *[!0-9]*) die "CAIRN_SSH_PORT must be a number, got '$port'" ;; esac
case $name in '' | [.-]* | *[!A-Za-z0-9_.-]*) die "CAIRN_HOST_NAME '$name' is not a valid host name (letters, digits, _ . -)" ;; esac
if [ -n "${CAIRN_BECOME:-}" ]; then become=$CAIRN_BECOME
elif [ "$user" = root ]; then become=false
else become=sudo
fi
case $become in false | sudo | doas) ;; *) die "CAIRN_BECOME must be false, sudo or doas, got '$become'" ;; esac

umask 077
dir=$(mktemp -d "${TMPDIR:-/tmp}/cairn-packer.XXXXXX")
cleanup() { if [ "${CAIRN_KEEP_DIR:-}" = 1 ]; then echo "cairn-packer-hook: kept $dir" >&2; else rm -rf "$dir"; fi; }
trap cleanup EXIT
trap 'exit 130' INT TERM

# the build's private key, mode 0600
if [ -n "${CAIRN_SSH_PRIVATE_KEY:-}" ]; then
  printf '%s\n' "$CAIRN_SSH_PRIVATE_KEY" > "$dir/id_build"
  chmod 600 "$dir/id_build"
  key=$dir/id_build
elif [ -n "${CAIRN_SSH_KEY_FILE:-}" ]; then
  [ -r "$CAIRN_SSH_KEY_FILE" ] || die "CAIRN_SSH_KEY_FILE $CAIRN_SSH_KEY_FILE cannot be read"
  key=$CAIRN_SSH_KEY_FILE
else
  die "no SSH key: set CAIRN_SSH_PRIVATE_KEY (\${build.SSHPrivateKey}) or CAIRN_SSH_KEY_FILE"
fi
: > "$dir/known_hosts"   # throwaway: filled by --accept-new-host-keys, deleted after the build
: > "$dir/ssh_config"    # empty: the user's ~/.ssh/config does not apply to the build VM

# YAML double-quoted scalar
q() { printf '"%s"' "$(printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g')"; }

roles=$(printf '%s\n' "$CAIRN_ROLES" | tr ', ' '\n\n' | sed '/^$/d' | while read -r r; do printf '%s, ' "$(q "$r")"; done)
roles=${roles%, }
{
  echo "# written by cairn-packer-hook.sh for one Packer build"
  echo "connection:"
  echo "  known_hosts: $(q "$dir/known_hosts")"
  echo "  ssh_config: $(q "$dir/ssh_config")"
  echo "  connect_timeout: 30s"
  if [ -n "${CAIRN_VARS_FILE:-}" ]; then
    [ -r "$CAIRN_VARS_FILE" ] || die "CAIRN_VARS_FILE $CAIRN_VARS_FILE cannot be read"
    echo "vars:"
    sed 's/^/  /' "$CAIRN_VARS_FILE"
    echo
  fi
  echo "hosts:"
  echo "  $name:"
  echo "    address: $(q "$CAIRN_SSH_HOST")"
  echo "    port: $port"
  echo "    user: $(q "$user")"
  echo "    identity: $(q "$key")"
  echo "    become: $become"
  echo "groups:"
  echo "  baked:"
  echo "    hosts: [$name]"
  echo "    roles: [$roles]"
} > "$dir/inventory.yml"
if [ -n "${CAIRN_ROLES_DIR:-}" ]; then
  [ -d "$CAIRN_ROLES_DIR" ] || die "CAIRN_ROLES_DIR $CAIRN_ROLES_DIR is not a directory"
  ln -s "$(cd "$CAIRN_ROLES_DIR" && pwd)" "$dir/roles"
fi

echo "cairn-packer-hook: baking $user@$CAIRN_SSH_HOST:$port as '$name' with roles $CAIRN_ROLES" >&2
unset SSH_AUTH_SOCK
# shellcheck disable=SC2086 # CAIRN_CMD and CAIRN_ARGS are word lists on purpose
${CAIRN_CMD:-cairn} apply --bake -i "$dir/inventory.yml" --accept-new-host-keys ${CAIRN_ARGS:-} </dev/null
