import { z } from 'zod';
import { isSecret, type Secret } from '../core/secret.ts';
import { DURATION_PATTERN } from './duration.ts';
import { FIELD_HELP, type FieldName } from './field-help.ts';

/**
 * The shape of an inventory file, as written (before defaults and path
 * resolution). Structural checks only: cross-references (group -> host,
 * chroot -> root, roles, name clashes) are in cross-check.ts.
 */

/** Host and group names: usable in --limit patterns (no , : ! & * ? or spaces). */
export const NAME_PATTERN = '^[A-Za-z0-9_][A-Za-z0-9_.-]*$';

const HOP = String.raw`(?:ssh://)?(?:[^@\s,/]+@)?(?:\[[0-9A-Fa-f:.]+\]|[^\s,:@\[\]/]+)(?::\d{1,5})?`;
/** OpenSSH ProxyJump: `none` or comma separated `[user@]host[:port]` hops. */
export const PROXY_JUMP_PATTERN = `^(?:none|${HOP}(?:,${HOP})*)$`;

const described = (field: FieldName) => ({ description: FIELD_HELP[field].description });

/** A value written with !secret or !secret_env (a plain text is refused: see schema-problems.ts). */
export const SecretSchema = z.custom<Secret>((v) => isSecret(v));

const Name = z.string().regex(new RegExp(NAME_PATTERN));
const NoSpaces = z.string().regex(/^\S+$/);

export const DurationSchema = z
  .union([z.number().positive(), z.string().regex(new RegExp(DURATION_PATTERN))])
  .meta({ description: 'A duration: 500ms, 10s, 2m, 1h or a number of seconds.' });

export const VarsSchema = z.record(z.string(), z.unknown()).nullable().meta(described('vars'));

export const ConnectionSchema = z
  .strictObject({
    known_hosts: z.string().min(1).optional().meta(described('known_hosts')),
    ssh_config: z.string().min(1).optional().meta(described('ssh_config')),
    connect_timeout: DurationSchema.optional().meta(described('connect_timeout')),
    command_timeout: DurationSchema.optional().meta(described('command_timeout')),
  })
  .nullable()
  .meta(described('connection'));

export const HostSchema = z
  .strictObject({
    address: NoSpaces.optional().meta(described('address')),
    port: z.number().int().min(1).max(65535).optional().meta(described('port')),
    user: NoSpaces.optional().meta(described('user')),
    identity: z
      .union([z.string().min(1), z.array(z.string().min(1)).min(1)])
      .optional()
      .meta(described('identity')),
    password: SecretSchema.optional().meta(described('password')),
    become: z
      .union([z.boolean(), z.enum(['sudo', 'doas'])])
      .optional()
      .meta(described('become')),
    become_password: SecretSchema.optional().meta(described('become_password')),
    connection: z.enum(['ssh', 'local', 'chroot']).optional().meta(described('connection_kind')),
    root: z.string().regex(/^\//).optional().meta(described('root')),
    proxy_jump: z.string().regex(new RegExp(PROXY_JUMP_PATTERN)).optional().meta(described('proxy_jump')),
    proxy_command: z.string().min(1).optional().meta(described('proxy_command')),
    vars: VarsSchema.optional(),
    groups: z.array(Name).optional().meta(described('host_groups')),
  })
  .nullable()
  .meta(described('host'));

export const GroupSchema = z
  .strictObject({
    hosts: z.array(Name).nullable().optional().meta(described('group_hosts')),
    vars: VarsSchema.optional(),
    roles: z.array(z.string().min(1)).nullable().optional().meta(described('roles')),
  })
  .nullable()
  .meta(described('group'));

export const InventorySchema = z
  .strictObject({
    connection: ConnectionSchema.optional(),
    vars: VarsSchema.optional(),
    hosts: z.record(Name, HostSchema).meta(described('hosts')),
    groups: z.record(Name, GroupSchema).nullable().optional().meta(described('groups')),
  })
  .meta({ title: 'cairn inventory', ...described('inventory') });

export type RawInventory = z.infer<typeof InventorySchema>;
export type RawHost = NonNullable<z.infer<typeof HostSchema>>;
export type RawGroup = NonNullable<z.infer<typeof GroupSchema>>;

/** Valid keys per kind of map, for "did you mean" suggestions. */
export const KEYS = {
  inventory: Object.keys(InventorySchema.shape),
  connection: Object.keys(ConnectionSchema.unwrap().shape),
  host: Object.keys(HostSchema.unwrap().shape),
  group: Object.keys(GroupSchema.unwrap().shape),
} as const;
