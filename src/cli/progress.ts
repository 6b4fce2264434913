import type { HostSummary, RunEvent } from '../engine/events.ts';
import { mask } from '../core/secret.ts';
import { recapTable } from '../report/recap.ts';
import { jsonReport } from '../report/json.ts';

/**
 * What a run has done so far, from its events: kept so that a run that dies
 * (an internal error) can still print the recap of the hosts that finished.
 */
export class RunProgress {
  #mode?: 'apply' | 'check';
  #json = false;
  readonly #started: string[] = [];
  readonly #done: Record<string, HostSummary> = {};

  /** An apply or check starts (facts has no recap). */
  begin(mode: 'apply' | 'check', json: boolean): void {
    this.#mode = mode;
    this.#json = json;
  }

  /** Pass every event of the run through here. */
  readonly track = (e: RunEvent): void => {
    if (e.type === 'host:start') this.#started.push(e.host);
    else if (e.type === 'host:end') this.#done[e.host] = e.summary;
  };

  /** The recap (or --json document) of the hosts that finished, with the ones that did not; undefined before a run began. */
  recap(): string | undefined {
    if (!this.#mode) return undefined;
    const unfinished = this.#started.filter((h) => !(h in this.#done));
    if (this.#json) {
      // every host of the run is in the document: the ones that did not finish failed
      const notFinished: HostSummary = { ok: 0, changed: 0, failed: 1, skipped: 0, unreachable: false, roundTrips: 0, ops: [], error: 'not finished: cairn stopped on an internal error (see stderr)' };
      return jsonReport(this.#mode, { ...this.#done, ...Object.fromEntries(unfinished.map((h) => [h, notFinished])) });
    }
    return mask(recapTable(this.#done) + (unfinished.length ? `\nnot finished: ${unfinished.join(', ')}` : ''));
  }
}
