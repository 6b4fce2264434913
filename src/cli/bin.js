#!/usr/bin/env node
// cairn's command: TypeScript sources and user roles run through tsx, no build step.
import { register } from 'tsx/esm/api';
register();
process.env.CAIRN_CLI_MAIN = '1';
await import('./main.ts');
