import { z } from 'zod';
import { InventorySchema, SecretSchema } from './schema.ts';

/** Where the committed schema lives, relative to the repository root. */
export const SCHEMA_PATH = 'docs/inventory.schema.json';

/**
 * JSON Schema (draft-07, the widest editor support) of the inventory file,
 * generated from the zod schema, as the text committed to docs/.
 */
export function inventoryJsonSchemaText(): string {
  const schema = z.toJSONSchema(InventorySchema, {
    target: 'draft-7',
    // the only custom type is a Secret: in the file, a tagged scalar (!secret_env NAME)
    unrepresentable: (ctx) => (ctx.zodSchema === SecretSchema ? { type: 'string' } : 'throw'),
  });
  return `${JSON.stringify(schema, null, 2)}\n`;
}
