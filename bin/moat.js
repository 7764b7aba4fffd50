#!/usr/bin/env node
// Entry point of the `moat` command: loads the TypeScript CLI through tsx.
import { register } from 'tsx/esm/api';

register();
await import('../app/cli/main.ts');
