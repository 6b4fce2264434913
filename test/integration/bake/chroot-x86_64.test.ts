import { bakeAndBootSuite } from './_bake-and-boot.ts';

// Alpine 3.19 x86_64: bake by chroot, bake again, refuse without --bake, boot two copies.
bakeAndBootSuite('x86_64');
