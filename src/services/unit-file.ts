import type { UnitValue } from './unit-value.ts';

/** The directives cairn writes, by section: the only raw words of a unit file besides UNIT_KEYWORDS. */
export const UNIT_DIRECTIVES = {
  Unit: ['Description', 'Wants', 'After', 'Requires', 'StartLimitIntervalSec', 'StartLimitBurst'],
  Service: ['Type', 'User', 'Group', 'Environment', 'ExecStart', 'ExecReload', 'KillMode', 'KillSignal', 'Restart', 'RestartSec', 'LimitNOFILE', 'LimitNPROC', 'TasksMax', 'OOMScoreAdjust', 'StandardInput'],
  Install: ['WantedBy'],
} as const;
export type UnitSection = keyof typeof UNIT_DIRECTIVES;
export type UnitDirective<S extends UnitSection> = (typeof UNIT_DIRECTIVES)[S][number];
export type UnitLine<S extends UnitSection> = readonly [UnitDirective<S>, UnitValue];

/** A unit file's sections in order, each a list of `Directive=value` lines. */
export type UnitSections = { readonly [S in UnitSection]: readonly UnitLine<S>[] };

/** The text of a unit file: a `#` comment line (the HEADER constant: no line breaks), then `[Unit]`, `[Service]`, `[Install]`. */
export function unitFile(comment: string, sections: UnitSections): string {
  if (/[\n\r\0]/.test(comment)) throw new Error(`systemd unit comment: a line break cannot be written, got ${JSON.stringify(comment)}`);
  const out = [`# ${comment}`];
  for (const s of Object.keys(UNIT_DIRECTIVES) as UnitSection[]) {
    out.push(`[${s}]`);
    for (const [k, v] of sections[s] as readonly UnitLine<UnitSection>[]) {
      if (!(UNIT_DIRECTIVES[s] as readonly string[]).includes(k)) throw new Error(`systemd unit: ${k}= does not belong in [${s}]`);
      out.push(`${k}=${v.text}`);
    }
    out.push('');
  }
  return out.join('\n');
}
