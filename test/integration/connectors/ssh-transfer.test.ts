import test from 'ava';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sh } from '../../../src/shell/sh.ts';
import type { SshConnector } from '../../../src/connectors/ssh/connector.ts';
import { hostPublicKeys, knownHostsText, must, rootConnector, sshTestTarget, startExtraSshd } from './_target.ts';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** Upload/download checks shared by every transfer path. */
async function roundTrips(t: import('ava').ExecutionContext, c: SshConnector, dir: string): Promise<void> {
  await must(c, sh`rm -rf ${dir} && mkdir -p ${dir}`);
  const text = Buffer.from('line 1\nline 2 ✓\n');
  await c.upload(`${dir}/text`, text, { mode: 0o640 });
  t.is(await must(c, sh`stat -c %a ${`${dir}/text`}`), '640\n');
  t.is(await must(c, sh`cat ${`${dir}/text`}`), text.toString());

  const bin = randomBytes(300_000);
  await c.upload(`${dir}/bin file`, bin, { mode: 0o600 });
  t.is((await must(c, sh`sha256sum ${`${dir}/bin file`}`)).split(' ')[0], sha(bin));
  t.is(await must(c, sh`stat -c %a ${`${dir}/bin file`}`), '600\n');

  // overwrite: truncates, and the mode is applied to an existing file too
  await c.upload(`${dir}/text`, Buffer.from('short'), { mode: 0o755 });
  t.is(await must(c, sh`cat ${`${dir}/text`}; stat -c %a ${`${dir}/text`}`), 'short755\n');

  // empty file, no mode given
  await c.upload(`${dir}/empty`, Buffer.alloc(0));
  t.is(await must(c, sh`wc -c < ${`${dir}/empty`}`), '0\n');

  const back = await c.download(`${dir}/bin file`);
  t.truthy(back);
  t.is(sha(back!), sha(bin));
  t.deepEqual(await c.download(`${dir}/empty`), Buffer.alloc(0));
  t.is(await c.download(`${dir}/does-not-exist`), undefined);
  t.is(await c.download(`${dir}/no-dir/x`), undefined);

  // a directory that does not exist is an error, not a silent no-op
  await t.throwsAsync(c.upload(`${dir}/no-dir/x`, Buffer.from('x')));
  await must(c, sh`rm -rf ${dir}`);
}

test('upload and download over SFTP', async (t) => {
  const c = rootConnector(await sshTestTarget());
  try {
    await roundTrips(t, c, '/tmp/cairn-it-sftp');
    t.is(c.stats.sftp, 'available');
    t.is(c.stats.tcpConnections, 1);
  } finally {
    await c.close();
  }
});

test('upload and download with the cat fallback (forced)', async (t) => {
  const c = rootConnector(await sshTestTarget(), {}, { transfer: 'exec' });
  try {
    await roundTrips(t, c, '/tmp/cairn-it-exec');
    t.is(c.stats.sftp, 'unknown', 'SFTP never tried');
  } finally {
    await c.close();
  }
});

test('a host without an SFTP subsystem falls back to cat by itself', async (t) => {
  const target = await sshTestTarget();
  const admin = rootConnector(target);
  const extra = await startExtraSshd(admin, target, { sftp: false });
  try {
    const dir = mkdtempSync(join(tmpdir(), 'cairn-it-'));
    const kh = join(dir, 'known_hosts');
    writeFileSync(kh, knownHostsText(await hostPublicKeys(admin), [`[${target.address}]:${extra.port}`]));
    const c = rootConnector({ ...target, knownHosts: kh }, { port: extra.port });
    try {
      await roundTrips(t, c, '/tmp/cairn-it-nosftp');
      t.is(c.stats.sftp, 'unavailable', 'the sftp subsystem request failed, so cat was used');
      const onlySftp = rootConnector({ ...target, knownHosts: kh }, { port: extra.port }, { transfer: 'sftp' });
      await t.throwsAsync(onlySftp.upload('/tmp/x', Buffer.from('x')), { message: /SFTP is not available/ });
      await onlySftp.close();
    } finally {
      await c.close();
    }
  } finally {
    await extra.stop();
    await admin.close();
  }
});
