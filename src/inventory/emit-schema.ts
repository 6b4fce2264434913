import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { inventoryJsonSchemaText, SCHEMA_PATH } from './json-schema.ts';

/** Write docs/inventory.schema.json from the zod schema: `node --import tsx src/inventory/emit-schema.ts`. */
const target = fileURLToPath(new URL(`../../${SCHEMA_PATH}`, import.meta.url));
writeFileSync(target, inventoryJsonSchemaText());
process.stdout.write(`wrote ${target}\n`);
