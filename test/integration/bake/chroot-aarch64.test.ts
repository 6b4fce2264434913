import { bakeAndBootSuite } from './_bake-and-boot.ts';

// Alpine 3.7 aarch64 (qemu-user binfmt): bake by chroot, bake again, refuse without --bake, boot two copies.
bakeAndBootSuite('aarch64');
