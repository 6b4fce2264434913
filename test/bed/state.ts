/**
 * The fleet state file (<state dir>/state.json). Every resource is recorded
 * BEFORE it is created, so `down` (and the crash cleanup at the start of `up`)
 * can remove exactly what this harness made and nothing else.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Arch, BecomeMethod, Init, Kind } from './config.ts';
import { stateFile } from './config.ts';

export interface HostState {
  name: string;
  kind: Kind;
  arch: Arch;
  init: Init;
  become: BecomeMethod;
  address: string;
  /** nspawn machine name == the host's netns name. */
  machine: string;
  netns: string;
  /** Bed-side veth name (in the bed netns, enslaved to br0). */
  bedIface: string;
  /** overlay: read-only lower (cached root), per-host upper/work, merged root the container boots. */
  lower: string;
  upper: string;
  work: string;
  root: string;
  /** Local repository bound read-only into the guest, and where. */
  repo: string;
  repoTarget: string;
  console: string;
  /** ed25519 host public key line ("ssh-ed25519 AAAA... comment"). */
  hostKey?: string;
  nspawnPid?: number;
  /** The container's PID 1 (child of nspawnPid), seen from the controller. */
  initPid?: number;
  bootMs?: number;
  /** Set when the first boot failed and the host was booted again (2). */
  boots?: number;
  /** What went wrong at boot and what the bed did about it (see settle.ts). */
  bootNotes?: string[];
}

export interface FleetState {
  version: 1;
  fleet: string;
  status: 'starting' | 'up' | 'stopping' | 'failed';
  createdAt: string;
  dir: string;
  subnetIndex: number;
  subnet: string;
  gateway: string;
  controllerAddress: string;
  bedNetns: string;
  rootVeth: string;
  s6: boolean;
  /** Where the data came from ('shared': testbed dir, 'download': dl-cdn fallback). */
  source: string;
  files: { inventory: string; sshConfig: string; knownHosts: string; key: string };
  hosts: HostState[];
  /** Everything to undo, recorded before creation. */
  netns: string[];
  mounts: string[];
  links: string[];
  timings?: { prepareMs: number; bootMs: number; totalMs: number };
}

export function readState(fleet: string): FleetState | undefined {
  const file = stateFile(fleet);
  if (!existsSync(file)) return undefined;
  const s = JSON.parse(readFileSync(file, 'utf8')) as FleetState;
  if (s.version !== 1 || s.fleet !== fleet) throw new Error(`${file}: not a cairn-bed state file for fleet ${fleet}`);
  return s;
}

/** Serialised, atomic writes of one state object (hosts boot concurrently). */
export class StateWriter {
  private chain: Promise<void> = Promise.resolve();
  constructor(readonly state: FleetState) {}

  /** Write now (synchronously, atomically: temp + rename). */
  saveSync(): void {
    const file = stateFile(this.state.fleet);
    mkdirSync(dirname(file), { recursive: true });
    const tmp = `${file}.tmp-${process.pid}`;
    writeFileSync(tmp, JSON.stringify(this.state, null, 2) + '\n', { mode: 0o644 });
    renameSync(tmp, file);
  }

  /** Apply a change and save; changes are applied in call order. */
  update(change: (s: FleetState) => void): Promise<void> {
    this.chain = this.chain.then(() => {
      change(this.state);
      this.saveSync();
    });
    return this.chain;
  }

  recordNetns(name: string): Promise<void> {
    return this.update((s) => {
      if (!s.netns.includes(name)) s.netns.push(name);
    });
  }

  recordMount(path: string): Promise<void> {
    return this.update((s) => {
      if (!s.mounts.includes(path)) s.mounts.push(path);
    });
  }

  recordLink(name: string): Promise<void> {
    return this.update((s) => {
      if (!s.links.includes(name)) s.links.push(name);
    });
  }
}
