import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { buildAppSchema, printAppSchema } from './schema.js';

const target = resolve(import.meta.dirname, '../../schema.graphql');
writeFileSync(target, printAppSchema(await buildAppSchema()));
console.log(`wrote ${target}`);
