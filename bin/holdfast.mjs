#!/usr/bin/env node
// The ops CLI, run from TypeScript source through tsx (a dependency), like `npm start`.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/holdfast.ts');
