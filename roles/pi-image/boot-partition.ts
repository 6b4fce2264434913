// The boot partition must be mounted where the role writes: files written into an
// empty /boot/firmware directory of the root file system are never read by the
// firmware or by Raspberry Pi OS's first boot.
import { fail, noop, parseSections, probeOf, section, sh, type Operation } from 'cairn-provision';

/** Fails the run unless `dir` holds cmdline.txt on a file system other than /'s. */
export function bootPartitionMounted(id: string, dir: string): Operation {
  return {
    kind: 'bootPartition',
    id,
    probe: () =>
      probeOf(
        sh`d=${dir}`,
        sh`if [ -f "$d/cmdline.txt" ]; then`,
        section('cmdline', sh`echo yes`),
        sh`fi`,
        sh`if [ -d "$d" ]; then`,
        section('dev', sh`stat -c %d "$d"`),
        section('rootdev', sh`stat -c %d /`),
        sh`fi`,
        sh`exit 0`,
      ),
    plan(probe) {
      if (!probe || probe.exitCode !== 0) return fail(`bootPartition '${id}': probe failed: ${probe?.stderr.trim() ?? 'no result'}`);
      const s = parseSections(probe.stdout);
      const fix = `mount the image's boot (FAT, first) partition at ${dir} inside the root before the run (e.g. mount /dev/loop0p1 /mnt/rpi${dir}), or set pi_boot_dir`;
      if (!s.has('dev')) return fail(`${dir} does not exist: the boot partition is not mounted there; fix: ${fix}`);
      if (!s.has('cmdline')) return fail(`${dir} has no cmdline.txt: it is not a Raspberry Pi boot partition (or the partition is not mounted); fix: ${fix}`);
      if (s.get('dev')?.trim() === s.get('rootdev')?.trim()) return fail(`${dir} is on the root file system, not the boot partition: what is written there is never read at boot; fix: ${fix}`);
      return noop(`${dir} is a boot partition of its own, with cmdline.txt`);
    },
  };
}
