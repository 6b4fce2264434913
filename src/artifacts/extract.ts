import { gunzipSync } from 'node:zlib';
import { isTar, readTar } from './tar.ts';
import { isZip, listZip, readZipEntry } from './zip.ts';

const norm = (n: string): string => n.replace(/^\.\//, '').replace(/\/+$/, '');

/**
 * One member of a .zip, .tar.gz/.tgz or .tar archive (detected by content, not
 * name), e.g. `nomad` from nomad_1.7.5_linux_arm64.zip. `source` names the
 * archive in errors.
 */
export function extractMember(archive: Buffer, member: string, source: string): Buffer {
  const want = norm(member);
  if (isZip(archive)) {
    const entries = listZip(archive);
    const e = entries.find((x) => norm(x.name) === want && !x.name.endsWith('/'));
    if (!e) throw notFound(member, source, entries.map((x) => x.name));
    return readZipEntry(archive, e);
  }
  let tar = archive;
  if (archive[0] === 0x1f && archive[1] === 0x8b) tar = gunzipSync(archive);
  else if (!isTar(archive)) throw new Error(`${source} is not a zip, tar.gz or tar archive (cannot extract ${member})`);
  const names: string[] = [];
  for (const e of readTar(tar)) {
    names.push(e.name);
    if (norm(e.name) !== want) continue;
    if (e.type !== '0' && e.type !== '7') {
      throw new Error(`${member} in ${source} is not a regular file (tar type '${e.type}'${e.linkName ? ` -> ${e.linkName}` : ''})`);
    }
    return Buffer.from(e.data);
  }
  throw notFound(member, source, names);
}

function notFound(member: string, source: string, names: string[]): Error {
  return new Error(`${member} is not in ${source} (it has: ${names.slice(0, 12).join(', ')}${names.length > 12 ? ', ...' : ''})`);
}
