/** What `cairn --help` adds after the commands: exit codes, environment, examples. */
export const HELP_AFTER = `
Exit codes:
  0   success; for check: no drift
  1   a host failed or was unreachable; for exec: a host's command did not exit 0
  2   check found drift (something would change)
  64  bad usage (flags, -e, an unknown tag), before any connection
  65  invalid inventory, vars, role or template, before any connection
  N   cairn ssh: ssh's own exit code (the remote shell's; 255 when ssh itself failed)

Environment:
  CI                  set: plain lines instead of the interactive progress on a TTY
  CAIRN_CACHE_DIR     controller-side artifact cache (default $XDG_CACHE_HOME/cairn or ~/.cache/cairn)
  XDG_CACHE_HOME      base of the default cache directory
  SSH_AUTH_SOCK       ssh-agent to authenticate with (ssh_config IdentityAgent wins)
  PATH                where the OpenSSH client ssh is found: ssh -G resolves the ssh config; cairn ssh runs it
  USER, HOME          the local user name (for ssh_config %u and local hosts) and ~ (ssh_config, known_hosts)
  any NAME            read by !secret_env NAME in the inventory or in -e

Examples:
  cairn init my-fleet                              a new project: package.json, inventory.yml, a sample role
  cairn check -i inventory.yml                     report drift (exit 2), change nothing
  cairn apply -i inventory.yml -l 'web*' -D        apply to the web hosts, showing diffs
  cairn apply -i inventory.yml -t consul --skip-tags consul/restart
  cairn apply -i inventory.yml -e @vars.yml -e site=prod -e '{"servers": 3}'
  cairn check -i inventory.yml --list-hosts        the hosts a run would touch (no connection)
  cairn check -i inventory.yml --list-tags         the roles and role/step names for --tags
  cairn check -i inventory.yml --junit report.xml --log run.log
  cairn facts -i inventory.yml --only os,arch,init
  cairn exec -i inventory.yml 'web*' -- uptime     a command on the web hosts, output per host, exit 0 if all exit 0
  cairn exec -i inventory.yml all --json -- 'df -h /'
  cairn ssh -i inventory.yml web1 -v               a shell on web1 through ssh, reached as cairn reaches it

Run 'cairn <command> --help' for a command's flags.`;
