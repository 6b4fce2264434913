// The benchmark's upload-rate workload: one big file from the controller (bench_blob),
// nothing else, so the time a cold apply takes beyond a tiny file's is the transfer.
import { defineRole, directory, file } from 'cairn-provision';

export default defineRole({
  name: 'upload',
  defaults: { bench_blob: '' },
  steps(ctx) {
    const blob = ctx.vars.bench_blob as string;
    if (!blob) throw new Error('upload: bench_blob (the file to send) is not set');
    return [directory({ id: 'dir', path: '/opt/bench', mode: '0755' }), file({ id: 'blob', path: '/opt/bench/blob', src: blob, mode: '0644' })];
  },
});
