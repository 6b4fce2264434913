/**
 * cairn's library API, for writing roles:
 *
 *   import { defineRole, file, packages, service, sh } from 'cairn';
 */
export { defineRole } from './roles/role.ts';
export type { RoleDefinition, RoleContext, RoleValidationContext } from './roles/role.ts';
export { sh, asWord, joinCommands, ShellCommand } from './shell/sh.ts';
export { quote } from './shell/quote.ts';
export { Secret, mask, secretText } from './core/secret.ts';
export type { SecretTextValue } from './core/secret.ts';
export type { Facts } from './facts/types.ts';
export type { Operation, Plan, OpContext } from './operations/operation.ts';
export { noop, change, fail, warn, upload } from './operations/operation.ts';
export { file } from './operations/file.ts';
export { directory } from './operations/directory.ts';
export { symlink } from './operations/symlink.ts';
export { line } from './operations/line.ts';
export { command } from './operations/command.ts';
export { wait } from './operations/wait.ts';
export { archive } from './operations/archive.ts';
export { packages } from './operations/package.ts';
export { user } from './operations/user.ts';
export { group } from './operations/group.ts';
export { sysctl } from './operations/sysctl.ts';
export { kernelModule } from './operations/kernel-module.ts';
export { service, restartService, daemonReload } from './operations/service.ts';
export { artifact } from './operations/artifact.ts';
export { kernelCmdline } from './operations/cmdline.ts';
export { dnsCheck } from './operations/dns-query.ts';
export { resolvConf } from './operations/resolv-conf.ts';
export { cniPlugins } from './operations/cni-plugins.ts';
export { packagesAvailable } from './operations/package-available.ts';
export { checkedFile } from './operations/checked-file.ts';
export { whenExists } from './operations/when-exists.ts';
