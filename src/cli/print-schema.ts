import { writeFileSync } from 'node:fs';
import { printedSchema } from '../graphql/schema.js';

// Writes schema.graphql from the Pothos schema (committed; a test checks it is current).
writeFileSync(new URL('../../schema.graphql', import.meta.url), printedSchema());
console.error('wrote schema.graphql');
