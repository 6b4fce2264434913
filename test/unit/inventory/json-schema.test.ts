import test from 'ava';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { inventoryJsonSchemaText, SCHEMA_PATH } from '../../../src/inventory/json-schema.ts';

test('docs/inventory.schema.json is what the zod schema generates', (t) => {
  const committed = readFileSync(fileURLToPath(new URL(`../../../${SCHEMA_PATH}`, import.meta.url)), 'utf8');
  t.is(committed, inventoryJsonSchemaText(), 'run: node --import tsx src/inventory/emit-schema.ts');
});

test('the schema forbids unknown keys and describes fields for editors', (t) => {
  const schema = JSON.parse(inventoryJsonSchemaText()) as {
    additionalProperties: boolean;
    properties: { hosts: { additionalProperties: { anyOf: { additionalProperties?: boolean; properties?: Record<string, { description?: string }> }[] } } };
  };
  t.is(schema.additionalProperties, false);
  const host = schema.properties.hosts.additionalProperties.anyOf[0]!;
  t.is(host.additionalProperties, false);
  t.regex(host.properties!['port']!.description!, /SSH port/);
});
